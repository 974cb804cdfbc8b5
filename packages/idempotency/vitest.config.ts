import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  test: {
    name: "idempotency",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Store and fault tests talk to real PostgreSQL and Redis and start child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
