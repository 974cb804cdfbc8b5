import { packageConfig } from "../../tooling/tsup.package.js";

export default packageConfig(["src/index.ts", "src/vitest.ts", "src/arbitraries.ts"], { external: ["vitest", "fast-check"] });
