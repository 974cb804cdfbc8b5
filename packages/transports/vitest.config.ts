import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  // Tests run in Vite's SSR mode, which reads its own conditions: without this line they would
  // import the packages' built dist/ instead of src/.
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    name: "transports",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Integration tests talk to real brokers and cut connections on purpose.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // The broker tests share the machine's brokers and two cores: one file at a time.
    fileParallelism: false,
  },
});
