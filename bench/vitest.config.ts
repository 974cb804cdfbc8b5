import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@millwright/source"] },
  ssr: { resolve: { conditions: ["@millwright/source"] } },
  test: {
    name: "bench",
    include: ["capacity/**/*.test.ts"],
  },
});
