import { defineConfig } from "vitest/config";

// One root config; each package is a project. Tests import packages through the
// "@millwright/source" export condition, so they run against src/ without a build.
export default defineConfig({
  resolve: { conditions: ["@millwright/source"] },
  test: {
    projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts"],
  },
});
