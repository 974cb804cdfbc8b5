export { emitTypes } from "../../packages/cli/src/contract/typescript.js";
