import type { SchemaFile, SchemaNode } from "@millwright/contract";

/*
 * The property paths of each entity that a plant profile may name: every JSON Pointer reachable
 * from the entity through object properties only (never into an array, never below `extensions`,
 * whose namespaces the profile itself declares), with the kind of value found there. A profile
 * whose requirement names a path outside this table cannot be satisfied by any record the global
 * contract accepts, so `loadProfile` rejects it.
 */

type Kind = "scalar" | "object" | "array";

function resolve(defs: Readonly<Record<string, SchemaNode>>, node: SchemaNode): SchemaNode {
  let current = node;
  for (let i = 0; i < 16 && typeof current["$ref"] === "string"; i++) {
    const name = (current["$ref"] as string).replace(/^#\/\$defs\//, "");
    const target = defs[name];
    if (target === undefined) throw new Error(`paths: unresolved $ref ${String(current["$ref"])}`);
    current = target;
  }
  return current;
}

function kindOf(node: SchemaNode): Kind {
  const type = node["type"];
  if (type === "object" || node["properties"] !== undefined) return "object";
  if (type === "array") return "array";
  if (type === undefined && Array.isArray(node["oneOf"])) {
    const kinds = new Set((node["oneOf"] as SchemaNode[]).map((n) => (n["type"] === "object" || n["properties"] !== undefined ? "object" : n["type"] === "array" ? "array" : "scalar")));
    return kinds.size === 1 ? ([...kinds][0] as Kind) : "object";
  }
  return "scalar";
}

const token = (name: string): string => name.replaceAll("~", "~0").replaceAll("/", "~1");

/** The properties of an object schema, including those its `allOf` branches and variants declare. */
function propertiesOf(defs: Readonly<Record<string, SchemaNode>>, node: SchemaNode): Map<string, SchemaNode> {
  const out = new Map<string, SchemaNode>();
  const add = (n: SchemaNode): void => {
    const resolved = resolve(defs, n);
    for (const [name, schema] of Object.entries((resolved["properties"] as Record<string, SchemaNode> | undefined) ?? {})) {
      if (typeof schema === "object" && schema !== null && !out.has(name)) out.set(name, schema);
    }
    for (const key of ["allOf", "oneOf", "anyOf"]) for (const branch of (resolved[key] as SchemaNode[] | undefined) ?? []) add(branch);
  };
  add(node);
  return out;
}

/** Maps each entity to its profile-addressable paths and their kinds. */
function entityPaths(bundle: SchemaNode, entities: readonly string[]): Record<string, Record<string, Kind>> {
  const defs = bundle["$defs"] as Record<string, SchemaNode>;
  const out: Record<string, Record<string, Kind>> = {};
  for (const entity of entities) {
    const paths: Record<string, Kind> = {};
    const visit = (node: SchemaNode, base: string, depth: number): void => {
      if (depth > 6) return;
      for (const [name, schema] of [...propertiesOf(defs, node)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const at = `${base}/${token(name)}`;
        const resolved = resolve(defs, schema);
        const kind = kindOf(resolved);
        paths[at] = kind;
        if (kind === "object" && name !== "extensions") visit(resolved, at, depth + 1);
      }
    };
    visit(defs[entity] as SchemaNode, "", 0);
    out[entity] = paths;
  }
  return out;
}

/** Emits `paths.ts`: the entity → path → kind table that `loadProfile` checks requirements against. */
export function emitPaths(files: readonly SchemaFile[], bundle: SchemaNode, banner: string): string {
  const entities = files.filter((f) => f.group === "entities").map((f) => f.title);
  const table = entityPaths(bundle, entities);
  const out = [
    banner,
    'import type { EntityName } from "./catalog.js";',
    "",
    "/**",
    " * Per entity: every JSON Pointer reachable through object properties only (not into arrays, not",
    " * below `extensions`), with the kind of value there. Plant profiles may name only these paths.",
    " */",
    "export const entityPaths: { readonly [K in EntityName]: Readonly<Record<string, \"scalar\" | \"object\" | \"array\">> } = {",
  ];
  for (const entity of entities) {
    out.push(`  ${entity}: {`);
    for (const [path, kind] of Object.entries(table[entity] ?? {})) out.push(`    ${JSON.stringify(path)}: "${kind}",`);
    out.push("  },");
  }
  out.push("};", "");
  return out.join("\n");
}
