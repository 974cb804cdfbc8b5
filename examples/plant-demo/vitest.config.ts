import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  test: { name: "plant-demo", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
