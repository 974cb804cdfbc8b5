import { defineConfig } from "vitest/config";

// One root config; each package is a project. Tests import packages through the
// "@millwright/source" export condition, so they run against src/ without a build.
export default defineConfig({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts", "tooling/docs-snippets/vitest.config.ts", "tooling/consumers/vitest.config.ts", "bench/vitest.config.ts"],
  },
});
