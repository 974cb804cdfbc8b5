import { packageConfig } from "../../tooling/tsup.package.js";

// shims: `import.meta.url` in the CommonJS build, for the lazy load of @opentelemetry/api (src/trace.ts).
export default packageConfig(["src/index.ts"], { shims: true });
