import { packageConfig } from "../../tooling/tsup.package.js";

export default packageConfig(["src/index.ts", "src/sqlite.ts", "src/postgres.ts", "src/builtin/index.ts"]);
