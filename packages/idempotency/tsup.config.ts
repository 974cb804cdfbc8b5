import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/sqlite.ts", "src/postgres.ts", "src/redis.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  treeshake: true,
  splitting: true,
  // canonicalize (RFC 8785, by one of its authors) ships ESM only with an "import"-only export,
  // which a CommonJS require cannot load; it is 2 KB, so it is bundled into both formats.
  noExternal: ["canonicalize"],
});
