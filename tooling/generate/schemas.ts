// The schema reader and house rules live in @millwright/cli (its `diff` command bundles schema
// folders too); the generator uses the same code.
export {
  conditionalRules,
  ID_BASE,
  SCHEMA_GROUPS,
  lintSchemaFiles,
  readSchemaFiles,
  refTarget,
  type ConditionalRule,
  type SchemaFile,
  type SchemaNode,
} from "../../packages/cli/src/contract/schemas.js";
