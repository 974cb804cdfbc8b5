import { packageConfig } from "../../tooling/tsup.package.js";

export default packageConfig(["src/index.ts", "src/test-server/index.ts"], { entry: { index: "src/index.ts", "test-server/index": "src/test-server/index.ts" } });
