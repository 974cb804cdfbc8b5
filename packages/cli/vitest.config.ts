import { defineProject } from "vitest/config";
import { firstPassOnly } from "../../tooling/vitest-passes.js";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: { name: "cli", include: ["src/**/*.test.ts", "test/**/*.test.ts"], exclude: firstPassOnly(["test/codegen.test.ts", "test/codegen-safety.test.ts", "test/codegen-example.test.ts"]), testTimeout: 60_000 },
});
