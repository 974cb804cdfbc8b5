// Public API of @millwright/contract, the contract engine behind `pnpm generate` and the millwright
// CLI: read the schema files, check them, bundle them, generate TypeScript from the bundle.
export {
  conditionalRules,
  ID_BASE,
  lintSchemaFiles,
  readSchemaFiles,
  refTarget,
  SCHEMA_GROUPS,
  type ConditionalRule,
  type SchemaFile,
  type SchemaNode,
} from "./schemas.js";
export { bundleSchemas } from "./bundle.js";
export { eventEntries, lintEvents, resolvePointer, type EventDeprecation, type EventEntry, type EventMeta } from "./events.js";
export { emitTypes } from "./typescript.js";
