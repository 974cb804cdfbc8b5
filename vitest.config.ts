import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// One root config; each package is a project. Tests import packages through the
// "@millwright/source" export condition, so they run against src/ without a build.
export default defineConfig({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    // Vitest's default is one worker fewer than the cores: on a 2-core machine one test file at a
    // time. Here at least two: most integration tests wait on brokers, databases and servers they fail over, so two
    // files at a time halve the wall time; CPU-bound ratios in tests are measured interleaved.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts", "tooling/docs-snippets/vitest.config.ts", "tooling/consumers/vitest.config.ts", "bench/vitest.config.ts"],
  },
});
