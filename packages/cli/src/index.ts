// Public API of @millwright/cli: what the `millwright` command does, as functions.
export { catalogRows, renderCatalog, type CatalogRow } from "./catalog.js";
export {
  codegenLanguages,
  generateCode,
  type CodegenError,
  type CodegenLanguage,
  type CodegenOptions,
  type GeneratedFile,
} from "./codegen.js";
export { diffContracts, loadBundle, loadContract, type SchemaChange } from "./diff.js";
export {
  judgeRecord,
  readLines,
  validateJsonDocument,
  validateNdjson,
  type RecordIssue,
  type RecordResult,
  type ValidateOptions,
} from "./validate.js";
