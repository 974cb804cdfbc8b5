import { defineProject } from "vitest/config";
import { firstPassOnly } from "../../tooling/vitest-passes.js";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    name: "workflows",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Kill-and-restart tests run on the first Node only (tooling/vitest-passes.ts).
    exclude: firstPassOnly(["test/kill/**", "test/pg-workers.test.ts", "test/pg-scale.test.ts"]),
  },
});
