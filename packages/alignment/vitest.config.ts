import { defineProject } from "vitest/config";
import { firstPassOnly } from "../../tooling/vitest-passes.js";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    name: "alignment",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The 8-process PostgreSQL scale test runs on the first Node only (tooling/vitest-passes.ts).
    exclude: firstPassOnly(["test/pg-scale.test.ts"]),
  },
});
