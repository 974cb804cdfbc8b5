import { packageConfig } from "../../tooling/tsup.package.js";

export default packageConfig(["src/index.ts", "src/sqlite.ts", "src/postgres.ts", "src/redis.ts"], {
  // canonicalize (RFC 8785, by one of its authors) ships ESM only with an "import"-only export,
  // which a CommonJS require cannot load; it is 2 KB, so it is bundled into both formats.
  noExternal: ["canonicalize"],
});
