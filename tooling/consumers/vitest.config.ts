import { defineProject } from "vitest/config";

export default defineProject({
  // Packs the built packages and installs them with npm into fresh TypeScript projects (ESM and
  // CommonJS), then compiles and runs each: minutes on a loaded machine.
  test: { name: "consumers", include: ["*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000 },
});
