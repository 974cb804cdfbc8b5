// Public API of @millwright/cli: what the `millwright` command does, as functions.
export { catalogRows, renderCatalog, type CatalogBundle, type CatalogDeprecation, type CatalogRow } from "./catalog.js";
export {
  codegenLanguages,
  generateCode,
  type CodegenError,
  type CodegenLanguage,
  type CodegenOptions,
  type GeneratedFile,
} from "./codegen.js";
export type { BundleIssueCode } from "./codegen-input.js";
export { diffContracts, loadBundle, loadContract, type DiffOptions, type SchemaChange } from "./diff.js";
export { asyncApiTransports, createAsyncApiDocument, type AsyncApiError, type AsyncApiOptions, type AsyncApiTransport } from "./asyncapi.js";
export {
  judgeRecord,
  readLines,
  validateJsonDocument,
  validateNdjson,
  type RecordIssue,
  type RecordResult,
  type ValidateOptions,
} from "./validate.js";
