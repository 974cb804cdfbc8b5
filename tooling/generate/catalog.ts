import type { SchemaFile, SchemaNode } from "@millwright/contract";

/**
 * Emits the entity catalog: names, schema ids and natural keys of the entities, and every status
 * transition table declared with `x-transitions` in the schemas, so that code never restates them.
 */
export function emitCatalog(files: readonly SchemaFile[], banner: string): string {
  const entities = files.filter((f) => f.group === "entities");
  const out: string[] = [banner, ""];
  out.push("/** The names of the canonical entities. */");
  out.push(`export const entityNames = ${JSON.stringify(entities.map((f) => f.title))} as const;`, "");
  out.push("/** The name of a canonical entity. */");
  out.push("export type EntityName = (typeof entityNames)[number];", "");
  out.push("/** Per entity: its schema's `$id`, its file in `schemas/` and its natural key as JSON Pointers. */");
  out.push("export const entityCatalog = {");
  for (const f of entities) {
    const key = f.schema["x-natural-key"];
    if (!Array.isArray(key)) throw new Error(`${f.file}: entities must declare x-natural-key`);
    out.push(`  ${f.title}: { schemaId: ${JSON.stringify(f.id)}, file: ${JSON.stringify(f.file)}, naturalKey: ${JSON.stringify(key)} },`);
  }
  out.push("} as const satisfies Record<EntityName, { schemaId: string; file: string; naturalKey: readonly string[] }>;", "");
  for (const { name, table, values } of transitionTables(files)) {
    for (const [from, tos] of Object.entries(table)) {
      if (!values.includes(from) || !tos.every((t) => values.includes(t))) {
        throw new Error(`${name}: x-transitions names a value that is not in the enum`);
      }
    }
    if (values.some((v) => !(v in table))) throw new Error(`${name}: x-transitions must list every enum value`);
    out.push(`/** The allowed transitions of ${name.replace(/Transitions$/, "")}, from the schema's \`x-transitions\`. */`);
    out.push(`export const ${lowerFirst(name)} = {`);
    for (const [from, tos] of Object.entries(table)) out.push(`  ${from}: ${JSON.stringify(tos)},`);
    out.push("} as const;", "");
  }
  return out.join("\n");
}

/** The status transition tables of the schemas (`x-transitions`), named `<Title><Property>Transitions`. */
export function transitionTables(files: readonly SchemaFile[]) {
  const tables: { name: string; table: Record<string, string[]>; values: string[] }[] = [];
  const visit = (node: unknown, name: string): void => {
    if (typeof node !== "object" || node === null) return;
    const n = node as SchemaNode;
    if (n["x-transitions"] !== undefined) {
      tables.push({ name: `${name}Transitions`, table: n["x-transitions"] as Record<string, string[]>, values: n["enum"] as string[] });
    }
    const props = n["properties"] as Record<string, SchemaNode> | undefined;
    for (const [key, prop] of Object.entries(props ?? {})) visit(prop, name + upperFirst(key));
  };
  for (const f of files) visit(f.schema, f.title);
  return tables;
}

const upperFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
