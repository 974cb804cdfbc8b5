import { defineConfig, type Options } from "tsup";

/**
 * The one build of every published @millwright/* package: ESM and CJS with `.d.ts` / `.d.cts`,
 * source maps, Node 20 target. Each package names only its entry points.
 */
export function packageConfig(entry: readonly string[], overrides: Options = {}) {
  return defineConfig({
    entry: [...entry],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    treeshake: true,
    splitting: true,
    ...overrides,
  });
}
