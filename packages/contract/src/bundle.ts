import { ID_BASE, refTarget, type SchemaFile, type SchemaNode } from "./schemas.js";

/**
 * Bundles every schema file into one 2020-12 document: each file and each of its `$defs` becomes a
 * top-level `$defs` entry named by its title, and every `$ref` is rewritten to `#/$defs/<Title>`.
 * Shared types therefore exist once, which is what json-schema-to-typescript and the zod emitter need.
 * The root is `anyOf` the entities, so the bundle also validates "any canonical entity".
 *
 * @param files - the files read by `readSchemaFiles`
 * @returns the bundle document
 * @example
 * const bundle = bundleSchemas(readSchemaFiles("schemas"));
 * Object.keys(bundle.$defs as object); // ["Alignment", "AlignmentEvidence", …]
 */
export function bundleSchemas(files: readonly SchemaFile[]): SchemaNode {
  const byId = new Map(files.map((f) => [f.id, f]));
  const defs: Record<string, SchemaNode> = {};
  for (const file of files) {
    const { $schema: _s, $id: _i, $defs: nested, ...body } = file.schema;
    defs[file.title] = rewriteRefs(body, file, byId);
    for (const def of Object.values((nested ?? {}) as Record<string, SchemaNode>)) {
      defs[String(def["title"])] = rewriteRefs(def, file, byId);
    }
  }
  const sorted = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k] as SchemaNode]));
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `${ID_BASE}bundle.schema.json`,
    title: "CanonicalEntity",
    description: "Any Millwright canonical entity. Generated from the files in schemas/; do not edit.",
    anyOf: files.filter((f) => f.group === "entities").map((f) => ({ $ref: `#/$defs/${f.title}` })),
    $defs: sorted,
  };
}

function rewriteRefs(node: SchemaNode, file: SchemaFile, byId: ReadonlyMap<string, SchemaFile>): SchemaNode {
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      out[key] = `#/$defs/${refTarget(value, file, byId)}`;
    } else if (key === "x-transitions" || key === "x-natural-key" || key === "examples" || key === "enum") {
      out[key] = value;
    } else if (Array.isArray(value)) {
      out[key] = value.map((v) => (isNode(v) ? rewriteRefs(v, file, byId) : v));
    } else if (isNode(value)) {
      out[key] = rewriteRefs(value, file, byId);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
