import type { Profile, ProfileFieldSchema, ProfileNamespaceSchema, ProfileScalarType } from "@millwright/model";

/*
 * TypeScript for a plant profile: one interface per extension namespace the profile declares, the
 * profile's `Extensions` (the global map with those namespaces typed) and, for each generated
 * entity that has extensions, the entity with the profile's extensions. Requirements depend on
 * values (`when`), which types cannot say: they are listed in the entity's comment, and the parser
 * checks them (`parseWorkOrder(input, { profile })`).
 */

const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== "")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

const comment = (text: string, indent = ""): string[] => [`${indent}/**`, ...text.replace(/\*\//g, "* /").split("\n").map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (name: string): string => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

const SCALAR_TS: Readonly<Record<ProfileScalarType, string>> = { string: "string", number: "number", integer: "number", boolean: "boolean", null: "null" };

function scalarType(v: unknown): ProfileScalarType {
  if (v === null) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as ProfileScalarType;
}

/** The TypeScript type of one field: its literals when it has enum or const, else its JSON types. */
function fieldType(schema: ProfileFieldSchema): string {
  const types: readonly ProfileScalarType[] | undefined = schema.type === undefined ? undefined : typeof schema.type === "string" ? [schema.type] : schema.type;
  const fits = (v: unknown): boolean => types === undefined || types.includes(scalarType(v)) || (scalarType(v) === "integer" && types.includes("number"));
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return [...new Set(schema.enum.filter(fits).map((v) => JSON.stringify(v)))].join(" | ");
  if (types === undefined) return "string | number | boolean | null";
  return [...new Set(types.map((t) => SCALAR_TS[t]))].join(" | ");
}

/** The prefix of every name a profile adds: its id in PascalCase (`plant-1710` → `Plant1710`). */
function prefixOf(profile: Profile): string {
  const name = pascal(profile.document.id);
  return /^[0-9]/.test(name) ? `Profile${name}` : name;
}

/** The name of the interface of one namespace: profile and namespace in PascalCase. */
function namespaceTypeName(profile: Profile, namespace: string): string {
  return `${prefixOf(profile)}${pascal(namespace)}Extension`;
}

/**
 * Emits the TypeScript of a profile, to append to the generated `millwright.ts`.
 *
 * @param profile - the loaded profile
 * @param entities - the generated entity types that carry `extensions`
 * @param hasExtensions - whether the generated file declares the global `Extensions` type
 * @returns the TypeScript source
 */
export function emitProfileTypes(profile: Profile, entities: readonly string[], hasExtensions: boolean): string {
  const doc = profile.document;
  const prefix = prefixOf(profile);
  const out: string[] = ["", `// Plant profile ${profile.name}: its extension namespaces, typed.`];
  const namespaces = Object.entries(doc.extensions ?? {}) as [string, ProfileNamespaceSchema][];
  for (const [ns, schema] of namespaces) {
    const required = new Set(schema.required ?? []);
    out.push(...comment(`${schema.description ?? schema.title ?? `The ${ns} extension namespace.`}\n\nNamespace \`${ns}\` of plant profile ${profile.name}.${schema.additionalProperties === false ? " It has only these fields." : ""}`));
    out.push(`export interface ${namespaceTypeName(profile, ns)} {`);
    for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
      const notes = [fieldSchema.description ?? fieldSchema.title, fieldSchema.pattern === undefined ? undefined : `Pattern: \`${fieldSchema.pattern}\`.`, fieldSchema.format === undefined ? undefined : `Format: ${fieldSchema.format}.`]
        .filter((n): n is string => n !== undefined)
        .join("\n");
      if (notes !== "" || fieldSchema.deprecated === true) out.push(...comment(`${notes}${fieldSchema.deprecated === true ? `${notes === "" ? "" : "\n"}@deprecated` : ""}`, "  "));
      out.push(`  ${key(field)}${required.has(field) ? "" : "?"}: ${fieldType(fieldSchema)};`);
    }
    for (const field of required) if (!Object.hasOwn(schema.properties ?? {}, field)) out.push(`  ${key(field)}: string | number | boolean | null;`);
    out.push("}");
  }
  const typed = namespaces.map(([ns]) => `  ${key(ns)}?: ${namespaceTypeName(profile, ns)};`);
  out.push(...comment(`The extensions of a record under plant profile ${profile.name}: the global map, with the profile's namespaces typed.`));
  out.push(`export type ${prefix}Extensions = ${hasExtensions ? "Extensions & " : ""}{`, ...typed, "};");
  for (const entity of entities) {
    const rules = (doc.requirements ?? []).filter((r) => r.entity === entity);
    const lines = [`A ${entity} under plant profile ${profile.name}: its extensions typed by the profile.`];
    if (rules.length > 0) {
      lines.push("", "The profile's requirements (checked by the parser with `{ profile }`, not by this type):");
      for (const r of rules) {
        const when = Object.entries(r.when ?? {}).map(([p, v]) => `${p} ${Array.isArray(v) ? `in ${JSON.stringify(v)}` : `= ${JSON.stringify(v)}`}`);
        lines.push(`- ${r.id}: ${r.require.join(", ")} required${when.length === 0 ? "" : ` when ${when.join(" and ")}`}`);
      }
    }
    out.push(...comment(lines.join("\n")));
    out.push(`export type ${prefix}${entity} = Omit<${entity}, "extensions"> & { extensions?: ${prefix}Extensions };`);
  }
  return `${out.join("\n")}\n`;
}
