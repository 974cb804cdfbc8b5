import { defineProject } from "vitest/config";

export default defineProject({
  // The snippets are type-checked, not run: one TypeScript program per module resolution, over the
  // sources of every package a snippet imports. That takes a while on a loaded machine.
  test: { name: "docs-snippets", include: ["*.test.ts"], testTimeout: 600_000, hookTimeout: 600_000 },
});
