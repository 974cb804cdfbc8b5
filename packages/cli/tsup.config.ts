import { packageConfig } from "../../tooling/tsup.package.js";

// Two builds run side by side, so neither cleans dist/ (the build script does, first).
export default [
  packageConfig(["src/index.ts"], { clean: false }),
  packageConfig(["src/cli.ts"], { format: ["esm"], dts: false, clean: false, banner: { js: "#!/usr/bin/env node" } }),
];
