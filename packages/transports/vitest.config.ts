import { defineProject } from "vitest/config";
import { firstPassOnly } from "../../tooling/vitest-passes.js";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    name: "transports",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The cluster and broker-restart tests run on the first Node only (tooling/vitest-passes.ts).
    exclude: firstPassOnly(["test/cluster/**"]),
    // Integration tests talk to real brokers and cut connections on purpose.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // The broker tests share the machine's brokers and two cores: one file at a time.
    fileParallelism: false,
  },
});
