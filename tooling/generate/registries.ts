import { conditionalRules, type SchemaFile, type SchemaNode } from "@millwright/contract";
import { transitionTables } from "./catalog.js";

/*
 * The per-entity registries that code would otherwise keep by hand: the model's parsers and its
 * public re-export lists, the narrowed types of schemas with conditional requirements, and the
 * testing package's builder functions and arbitrary map. Each is a list over the schema files; the
 * hand-written parts they point at (semantic rules, arbitraries, builder defaults) are found by
 * name, so a missing one is a type error that names it.
 */

/** What the generator needs to know about one schema that gets a parser. */
interface ContractEntry {
  readonly title: string;
  /** `entities` for canonical entities; other groups get a parser without semantic rules. */
  readonly group: string;
  readonly description: string;
  /** A required property, for the TSDoc example. */
  readonly property: string;
}

/**
 * The schemas that get a parser: every entity, and every WMS schema that no other schema
 * references (a referenced one, such as WmsLocation, is a building block, not a contract).
 */
export function contractEntries(files: readonly SchemaFile[]): ContractEntry[] {
  const referenced = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string") referenced.add(value.replace(/^.*\//, "").replace(/#.*$/, ""));
        else visit(value);
      }
    }
  };
  for (const f of files) visit(f.schema);
  return files
    .filter((f) => f.group === "entities" || (f.group === "wms" && !referenced.has(f.file.replace(/^.*\//, ""))))
    .map((f) => ({
      title: f.title,
      group: f.group,
      description: String(f.schema["description"] ?? ""),
      property: String((f.schema["required"] as string[] | undefined)?.[0] ?? "revision"),
    }));
}

/** The schemas whose `allOf` narrows them by a tag property, with that narrowing per tag value. */
export function variantSchemas(files: readonly SchemaFile[]): { title: string; tag: string; variants: Map<string, { required: Set<string>; forbidden: Set<string> }> }[] {
  const out = [];
  for (const f of files) {
    const rules = conditionalRules(f.schema);
    if (rules === undefined || rules.length === 0) continue;
    const tag = rules[0]?.tag as string;
    if (rules.some((r) => r.tag !== tag)) throw new Error(`${f.file}: conditional requirements on more than one tag cannot be narrowed`);
    const tagSchema = (f.schema["properties"] as Record<string, SchemaNode>)[tag];
    const values = (tagSchema?.["enum"] as unknown[] | undefined) ?? (tagSchema?.["const"] !== undefined ? [tagSchema["const"]] : undefined);
    if (values === undefined || values.some((v) => typeof v !== "string" || !/^[a-z][a-z0-9_]*$/.test(v))) {
      throw new Error(`${f.file}: the tag ${tag} of conditional requirements must be an enum of snake_case strings`);
    }
    const variants = new Map((values as string[]).map((v) => [v, { required: new Set<string>(), forbidden: new Set<string>() }]));
    for (const rule of rules) {
      for (const value of rule.values) {
        const variant = variants.get(String(value));
        if (variant === undefined) throw new Error(`${f.file}: a conditional requirement names ${JSON.stringify(value)}, which ${tag} does not allow`);
        rule.required.forEach((r) => variant.required.add(r));
        rule.forbidden.forEach((r) => variant.forbidden.add(r));
      }
    }
    out.push({ title: f.title, tag, variants });
  }
  return out;
}

/**
 * The type a parser returns: the narrowed union where the schema narrows by a tag (the validator
 * checks those requirements, so the union is what it proves), otherwise the generated type.
 */
export function parsedType(title: string, narrowed: ReadonlySet<string>, typesNs: string, variantsNs: string): string {
  return narrowed.has(title) ? `${variantsNs}.${title}Variant` : `${typesNs}.${title}`;
}

/** Emits `variants.ts`: per schema narrowed by a tag, a map from tag value to its narrowed type, and their union. */
export function emitVariants(files: readonly SchemaFile[], banner: string): string {
  const out = [banner, 'import type * as T from "./types.js";', ""];
  for (const { title, tag, variants } of variantSchemas(files)) {
    const quote = (names: Iterable<string>) => [...names].map((n) => JSON.stringify(n));
    out.push("/**");
    out.push(` * ${title} narrowed by \`${tag}\`, as the schema's conditional requirements (\`allOf\` of if/then) guarantee:`);
    out.push(` * per value, the properties required for it are required and the forbidden ones absent.`);
    out.push(" *");
    out.push(" * @example");
    out.push(` * type First = ${title}ByType[${JSON.stringify([...variants.keys()][0])}];`);
    out.push(" */");
    out.push(`export interface ${title}ByType {`);
    for (const [value, { required, forbidden }] of variants) {
      const omitted = [JSON.stringify(tag), ...quote(required), ...quote(forbidden)].join(" | ");
      const parts = [`Omit<T.${title}, ${omitted}>`];
      if (required.size > 0) parts.push(`Required<Pick<T.${title}, ${quote(required).join(" | ")}>>`);
      const own = [`${tag}: ${JSON.stringify(value)}`, ...[...forbidden].map((n) => `${n}?: never`)];
      parts.push(`{ ${own.join("; ")} }`);
      out.push(`  ${value}: ${parts.join(" & ")};`);
    }
    out.push("}", "");
    out.push("/**");
    out.push(` * A ${title} of any \`${tag}\`, narrowed (see {@link ${title}ByType}): a \`switch\` on \`${tag}\` narrows it. The`);
    out.push(` * parser returns this type, since the validator checks the conditional requirements.`);
    out.push(" *");
    out.push(" * @example");
    out.push(` * declare const value: ${title}Variant;`);
    out.push(` * value.${tag};`);
    out.push(" */");
    out.push(`export type ${title}Variant = ${title}ByType[keyof ${title}ByType];`, "");
  }
  return out.join("\n");
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const firstSentence = (s: string): string => (/^.*?\.(?=\s|$)/.exec(s)?.[0] ?? s).replace(/\*\//g, "* /");

/** Emits `parsers.ts`: one `parseX` per contract, the entity → type map and the entity → parser table. */
export function emitParsers(files: readonly SchemaFile[], banner: string): string {
  const entries = contractEntries(files);
  const narrowed = new Set(variantSchemas(files).map((v) => v.title));
  const entities = entries.filter((e) => e.group === "entities");
  const out = [
    banner,
    'import { createParser, noRules, type Parser } from "../create-parser.js";',
    'import * as R from "../rules.js";',
    'import type { EntityName } from "./catalog.js";',
    'import type * as T from "./types.js";',
    ...(narrowed.size > 0 ? ['import type * as N from "./variants.js";'] : []),
    'import * as V from "./validators.js";',
    "",
  ];
  for (const e of entries) {
    const type = parsedType(e.title, narrowed, "T", "N");
    const rules = e.group === "entities" ? `R.${lowerFirst(e.title)}Rules` : "noRules";
    out.push("/**");
    out.push(
      e.group === "entities"
        ? ` * Checks that an unknown value is a valid {@link T.${e.title}}: the schema, then the semantic rules (\`${lowerFirst(e.title)}Rules\` in rules.ts).`
        : ` * Checks that an unknown value is a valid {@link T.${e.title}}: the schema (\`schemas/${files.find((f) => f.title === e.title)?.file}\`), which is all there is to it.`,
    );
    out.push(" * Never throws. The input is returned as is, not copied: do not mutate it afterwards.");
    out.push(" *");
    out.push(` * ${e.title}: ${firstSentence(e.description)}`);
    out.push(" *");
    out.push(" * @param input - any value, typically from `JSON.parse`");
    out.push(" * @param options - optionally a plant profile (`loadProfile`), checked after the global contract: it can only reject more");
    out.push(" * @returns the value, or every issue found, each with its code, JSON Pointer, value and rule");
    out.push(" * @example");
    out.push(` * parse${e.title}(JSON.parse(body)).map((value) => value.${e.property});`);
    out.push(" */");
    // createParser only builds a closure: marked pure, a parser nobody imports (and its validator) leaves the user's bundle.
    out.push(`export const parse${e.title}: Parser<${type}> = /* @__PURE__ */ createParser("${e.title}", V.validate${e.title}, ${rules});`, "");
  }
  out.push("/**");
  out.push(" * Maps each entity name to its type.");
  out.push(" *");
  out.push(" * @example");
  out.push(' * type Order = EntityTypeMap["WorkOrder"];');
  out.push(" */");
  out.push("export interface EntityTypeMap {");
  for (const e of entities) out.push(`  ${e.title}: T.${e.title};`);
  out.push("}", "");
  out.push("/** Every entity's parser by name; `parseEntity` dispatches through it. */");
  out.push("export const entityParsers: { readonly [K in EntityName]: Parser<EntityTypeMap[K]> } = {");
  for (const e of entities) out.push(`  ${e.title}: parse${e.title},`);
  out.push("};", "");
  return out.join("\n");
}

/**
 * Emits `public.ts`: the names @millwright/model takes from the schemas, listed one by one; the
 * package's `index.ts` re-exports this list next to its hand-written modules.
 */
export function emitModelPublic(files: readonly SchemaFile[], bundle: SchemaNode, banner: string): string {
  const eventTitles = new Set(files.filter((f) => f.group === "events").map((f) => f.title));
  const defs = Object.keys(bundle["$defs"] as Record<string, SchemaNode>).filter((t) => !eventTitles.has(t));
  const types = [String(bundle["title"]), ...defs].sort();
  const variants = variantSchemas(files).flatMap((v) => [`${v.title}ByType`, `${v.title}Variant`]);
  const parsers = contractEntries(files).map((e) => `parse${e.title}`).sort();
  const transitions = transitionTables(files).map((t) => lowerFirst(t.name)).sort();
  const list = (names: readonly string[], indent = "  ") => names.map((n) => `${indent}${n},`);
  return [
    banner,
    "// The public names of @millwright/model that come from the schemas; src/index.ts re-exports them.",
    "export type {",
    ...list(types),
    '} from "./types.js";',
    ...(variants.length > 0 ? ["export type {", ...list(variants), '} from "./variants.js";'] : []),
    "export {",
    ...list(["entityCatalog", "entityNames", ...transitions, "type EntityName"]),
    '} from "./catalog.js";',
    "export {",
    ...list([...parsers, "type EntityTypeMap"]),
    '} from "./parsers.js";',
    "",
  ].join("\n");
}

/** Emits `zod-public.ts`: the zod schemas @millwright/model/zod exports (every type but event data), listed one by one. */
export function emitZodPublic(files: readonly SchemaFile[], bundle: SchemaNode, banner: string): string {
  const eventTitles = new Set(files.filter((f) => f.group === "events").map((f) => f.title));
  const names = Object.keys(bundle["$defs"] as Record<string, SchemaNode>)
    .filter((t) => !eventTitles.has(t))
    .map((t) => `${t}Schema`)
    .sort();
  return [
    banner,
    "// The public names of @millwright/model/zod; src/zod.ts re-exports them.",
    "export {",
    ...[...names, "entitySchemas"].map((n) => `  ${n},`),
    '} from "./zod.js";',
    "",
  ].join("\n");
}

/** Emits the testing package's `builders.ts`: one `buildX` per entity, each `buildEntity` for that entity. */
export function emitTestingBuilders(files: readonly SchemaFile[], banner: string): string {
  const entities = contractEntries(files).filter((e) => e.group === "entities");
  const out = [
    banner,
    `import type { ${entities.map((e) => e.title).join(", ")} } from "@millwright/model";`,
    'import { buildEntity, type Overrides } from "../builders.js";',
    "",
  ];
  for (const e of entities) {
    out.push("/**");
    out.push(` * {@link buildEntity} for the ${e.title} entity: a valid default with your overrides merged in.`);
    out.push(" *");
    out.push(" * @param overrides - the properties to change");
    out.push(` * @returns a fresh, valid ${e.title}`);
    out.push(" * @example");
    out.push(` * const value = build${e.title}();`);
    out.push(" */");
    out.push(`export const build${e.title} = (overrides?: Overrides<${e.title}>): ${e.title} => buildEntity("${e.title}", overrides);`, "");
  }
  return out.join("\n");
}

/**
 * Emits the testing package's `arbitraries.ts`: the entity → arbitrary table that `entity(name)`
 * reads. Each entry calls the hand-written arbitrary named after the entity (`workOrder` for
 * WorkOrder) when first used, so the import cycle with `arbitraries.ts` is harmless.
 */
export function emitTestingArbitraries(files: readonly SchemaFile[], banner: string): string {
  const entities = contractEntries(files).filter((e) => e.group === "entities");
  const out = [
    banner,
    'import type { EntityName, EntityTypeMap } from "@millwright/model";',
    'import type fc from "fast-check";',
    'import * as A from "../arbitraries.js";',
    "",
    "/** Every entity's arbitrary by name; `entity(name)` reads it. */",
    "export const entityArbitraries: { readonly [K in EntityName]: () => fc.Arbitrary<EntityTypeMap[K]> } = {",
    ...entities.map((e) => `  ${e.title}: () => A.${lowerFirst(e.title)}(),`),
    "};",
    "",
  ];
  return out.join("\n");
}
