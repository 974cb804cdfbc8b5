import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  test: {
    name: "adapter-sap",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
