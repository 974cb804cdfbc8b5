import { packageConfig } from "../../tooling/tsup.package.js";

// The model's schema bundle is inlined: esbuild drops the `with { type: "json" }` attribute that
// Node's ESM loader requires for an external JSON import.
export default packageConfig(["src/index.ts", "src/test-server.ts"], { noExternal: [/bundle\.schema\.json$/] });
