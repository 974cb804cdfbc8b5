import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  test: {
    name: "adapter-wms",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
  },
});
