export { bundleSchemas } from "../../packages/cli/src/contract/bundle.js";
