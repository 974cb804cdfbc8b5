import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * A JSON Schema node as read from disk; the generator only relies on the keywords it checks.
 *
 * @example
 * const node: SchemaNode = { type: "string", description: "A key." };
 */
export type SchemaNode = { [keyword: string]: unknown };

/**
 * One schema file of `schemas/`.
 *
 * @example
 * const [first]: SchemaFile[] = readSchemaFiles("schemas");
 * first?.title; // "BatchRef"
 */
export interface SchemaFile {
  /** Path relative to `schemas/`, with forward slashes: `entities/work-order.schema.json`. */
  readonly file: string;
  /** The folder below `schemas/`: `common`, `entities`, `events` or `wms`. */
  readonly group: string;
  readonly id: string;
  readonly title: string;
  readonly schema: SchemaNode;
}

/**
 * The folders of `schemas/` that hold schema files, in reading order.
 *
 * @example
 * SCHEMA_GROUPS.includes("entities"); // true
 */
export const SCHEMA_GROUPS = ["common", "entities", "events", "wms"] as const;
/**
 * The base of every schema `$id`: a file's `$id` is this base followed by its path below `schemas/`.
 *
 * @example
 * `${ID_BASE}entities/batch.schema.json`;
 */
export const ID_BASE = "https://schemas.millwright.dev/v1/";

/**
 * Reads every `*.schema.json` file below the schema groups, sorted by path for determinism.
 *
 * @param schemasDir - the `schemas/` folder
 * @returns the files, common first, then entities, events and wms
 * @example
 * const files = readSchemaFiles(join(root, "schemas"));
 */
export function readSchemaFiles(schemasDir: string): SchemaFile[] {
  const files: SchemaFile[] = [];
  for (const group of SCHEMA_GROUPS) {
    let names: string[];
    try {
      names = readdirSync(join(schemasDir, group));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith(".schema.json")).sort()) {
      const path = join(schemasDir, group, name);
      // A leading BOM (editors on Windows write one) is not part of the JSON text.
      const schema = JSON.parse(readFileSync(path, "utf8").replace(/^\ufeff/, "")) as SchemaNode;
      files.push({
        file: relative(schemasDir, path).split("\\").join("/"),
        group,
        id: String(schema["$id"]),
        title: String(schema["title"]),
        schema,
      });
    }
  }
  return files;
}

const KNOWN_KEYWORDS = new Set([
  "$schema", "$id", "$ref", "$defs", "title", "description", "examples", "type", "enum", "const",
  "properties", "required", "additionalProperties", "propertyNames", "minProperties", "maxProperties",
  "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
  "oneOf", "discriminator", "allOf", "x-transitions", "x-natural-key", "x-event",
]);

/**
 * Checks the house rules every schema must follow on top of JSON Schema itself: an absolute `$id`
 * under the Millwright base that matches the file's path, a `title`, a `description` on every
 * property, `additionalProperties: false` on every object with properties, only keywords the
 * generators understand, and unique titles.
 *
 * @param files - the files read by `readSchemaFiles`
 * @returns one message per violation; empty when all is well
 * @example
 * const problems = lintSchemaFiles(readSchemaFiles("schemas"));
 * if (problems.length > 0) console.error(problems.join("\n"));
 */
export function lintSchemaFiles(files: readonly SchemaFile[]): string[] {
  const problems: string[] = [];
  const titles = new Map<string, string>();
  const noteTitle = (title: string, where: string): void => {
    const other = titles.get(title);
    if (other !== undefined) problems.push(`${where}: title "${title}" is also used by ${other}`);
    titles.set(title, where);
  };
  for (const f of files) {
    const expectedId = ID_BASE + f.file;
    if (f.schema["$schema"] !== "https://json-schema.org/draft/2020-12/schema") {
      problems.push(`${f.file}: $schema must be https://json-schema.org/draft/2020-12/schema`);
    }
    if (f.id !== expectedId) problems.push(`${f.file}: $id must be ${expectedId}, found ${f.id}`);
    if (!/^[A-Z][A-Za-z0-9]*$/.test(f.title)) problems.push(`${f.file}: title must be a PascalCase type name`);
    if (typeof f.schema["description"] !== "string") problems.push(`${f.file}: description missing`);
    noteTitle(f.title, f.file);
    const defs = (f.schema["$defs"] ?? {}) as Record<string, SchemaNode>;
    for (const [name, def] of Object.entries(defs)) {
      const where = `${f.file}#/$defs/${name}`;
      if (typeof def["title"] !== "string") problems.push(`${where}: title missing`);
      else noteTitle(def["title"], where);
      if (typeof def["description"] !== "string") problems.push(`${where}: description missing`);
    }
    walk(f.schema, f.file, "", problems);
  }
  return problems;
}

function walk(node: SchemaNode, file: string, pointer: string, problems: string[]): void {
  for (const key of Object.keys(node)) {
    if (!KNOWN_KEYWORDS.has(key)) problems.push(`${file}${pointer}: keyword "${key}" is not supported by the generators`);
  }
  const types = Array.isArray(node["type"]) ? node["type"] : [node["type"]];
  if (types.includes("integer")) {
    const min = node["minimum"];
    const max = node["maximum"];
    if (typeof min !== "number" || typeof max !== "number" || !Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
      problems.push(`${file}${pointer}: an integer needs a minimum and a maximum within ±(2^53 - 1), so every language reads it exactly`);
    }
  }
  const props = node["properties"] as Record<string, SchemaNode> | undefined;
  if (props !== undefined) {
    if (node["additionalProperties"] !== false) {
      problems.push(`${file}${pointer}: an object with properties must say additionalProperties: false`);
    }
    for (const name of (node["required"] as string[] | undefined) ?? []) {
      if (!(name in props)) problems.push(`${file}${pointer}: required property "${name}" is not declared in properties`);
    }
    for (const rule of conditionalRules(node) ?? []) {
      for (const name of [rule.tag, ...rule.required, ...rule.forbidden]) {
        if (!(name in props)) problems.push(`${file}${pointer}/allOf: "${name}" is not declared in properties`);
      }
    }
    for (const [name, prop] of Object.entries(props)) {
      if (typeof prop["description"] !== "string" || prop["description"].length === 0) {
        problems.push(`${file}${pointer}/properties/${name}: description missing`);
      }
      walk(prop, file, `${pointer}/properties/${name}`, problems);
    }
  }
  for (const key of ["items", "additionalProperties", "propertyNames"] as const) {
    const child = node[key];
    if (typeof child === "object" && child !== null) walk(child as SchemaNode, file, `${pointer}/${key}`, problems);
  }
  const defs = node["$defs"] as Record<string, SchemaNode> | undefined;
  for (const [name, def] of Object.entries(defs ?? {})) walk(def, file, `${pointer}/$defs/${name}`, problems);
  const oneOf = node["oneOf"] as SchemaNode[] | undefined;
  oneOf?.forEach((branch, i) => walk(branch, file, `${pointer}/oneOf/${i}`, problems));
  const allOf = node["allOf"];
  if (allOf !== undefined) {
    const rules = conditionalRules(node);
    if (rules === undefined) {
      problems.push(`${file}${pointer}/allOf: only conditional requirements are supported: [{ if: { required: [tag], properties: { tag: { const | enum } } }, then: { required?: [...], properties?: { name: false } } }]`);
    }
  }
}

/**
 * A conditional requirement: when the tag property has one of the values, these properties are required or forbidden.
 *
 * @example
 * const rule: ConditionalRule = { tag: "type", values: ["receipt"], required: ["to"], forbidden: [] };
 */
export interface ConditionalRule {
  readonly tag: string;
  readonly values: readonly unknown[];
  readonly required: readonly string[];
  readonly forbidden: readonly string[];
}

/**
 * Reads an object schema's `allOf` of conditional requirements (the one `allOf` shape the
 * generators translate, to zod refinements and narrowed types).
 *
 * @param node - an object schema
 * @returns the rules in declaration order, or undefined when `allOf` is missing or has any other shape
 * @example
 * conditionalRules({ allOf: [{ if: { required: ["type"], properties: { type: { const: "a" } } }, then: { required: ["x"] } }] });
 * // [{ tag: "type", values: ["a"], required: ["x"], forbidden: [] }]
 */
export function conditionalRules(node: SchemaNode): ConditionalRule[] | undefined {
  const allOf = node["allOf"];
  if (!Array.isArray(allOf)) return undefined;
  const rules: ConditionalRule[] = [];
  for (const entry of allOf as SchemaNode[]) {
    const keys = Object.keys(entry).sort().join(",");
    const cond = entry["if"] as SchemaNode | undefined;
    const then = entry["then"] as SchemaNode | undefined;
    if (keys !== "if,then" || cond === undefined || then === undefined) return undefined;
    const required = cond["required"] as string[] | undefined;
    const props = cond["properties"] as Record<string, SchemaNode> | undefined;
    if (required?.length !== 1 || props === undefined || Object.keys(props).length !== 1) return undefined;
    const tag = required[0] as string;
    const test = props[tag];
    const values = test?.["const"] !== undefined ? [test["const"]] : (test?.["enum"] as unknown[] | undefined);
    if (values === undefined || Object.keys(cond).sort().join(",") !== "properties,required") return undefined;
    const thenKeys = Object.keys(then);
    if (thenKeys.some((k) => k !== "required" && k !== "properties")) return undefined;
    const forbidden = Object.entries((then["properties"] ?? {}) as Record<string, unknown>);
    if (forbidden.some(([, v]) => v !== false)) return undefined;
    rules.push({ tag, values, required: (then["required"] as string[] | undefined) ?? [], forbidden: forbidden.map(([k]) => k) });
  }
  return rules;
}

/**
 * Resolves a `$ref` found in `file` to the target's bundle name (the title of the file or `$def`).
 * Throws when the ref points at no file or no `$def`: the schemas are the program here, and a
 * broken ref is a bug in them.
 *
 * @param ref - the `$ref` value
 * @param file - the file it was found in
 * @param byId - every schema file by `$id`
 * @returns the title of the referenced schema
 * @example
 * refTarget("../common/identifier.schema.json", workOrderFile, byId); // "Identifier"
 */
export function refTarget(ref: string, file: SchemaFile, byId: ReadonlyMap<string, SchemaFile>): string {
  const [path = "", fragment] = ref.split("#");
  const target = path === "" ? file : byId.get(new URL(path, file.id).href);
  if (target === undefined) throw new Error(`${file.file}: $ref "${ref}" points at no schema file`);
  if (fragment === undefined || fragment === "") return target.title;
  const match = /^\/\$defs\/([^/]+)$/.exec(fragment);
  if (match === null) throw new Error(`${file.file}: $ref "${ref}" must point at a file or one of its $defs`);
  const def = ((target.schema["$defs"] ?? {}) as Record<string, SchemaNode>)[match[1] as string];
  if (def === undefined) throw new Error(`${file.file}: $ref "${ref}" names a missing $def`);
  return String(def["title"]);
}
