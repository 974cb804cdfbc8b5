import { conditionalRules, type SchemaNode } from "@millwright/contract";

/**
 * Emits zod 4 schemas for every bundled definition, as TypeScript source whose inferred types equal
 * the json-schema-to-typescript declarations. Only the keywords our schemas use are translated; any
 * other keyword is an error, so the zod and ajv validators cannot silently drift apart.
 *
 * Semantics kept equal to JSON Schema: string lengths count code points, patterns use the `u` flag,
 * objects are strict, optional properties are exact (absent, never `undefined`), `oneOf` over a
 * `const` discriminator becomes a discriminated union.
 *
 * Event data definitions (`eventTitles`) get no schema: each is a bare `$ref` to its entity, so its
 * schema would be the entity's under a second name. No other definition refers to them.
 */
export function emitZod(
  bundle: SchemaNode,
  banner: string,
  entityTitles: readonly string[],
  eventTitles: ReadonlySet<string>,
): string {
  const defs = bundle["$defs"] as Record<string, SchemaNode>;
  const order = topologicalOrder(defs).filter((name) => !eventTitles.has(name));
  const regexes = new Map<string, string>();
  const regexName = (pattern: string): string => {
    let name = regexes.get(pattern);
    if (name === undefined) {
      name = `PATTERN_${regexes.size}`;
      regexes.set(pattern, name);
    }
    return name;
  };
  const body: string[] = [];
  for (const name of order) {
    const def = defs[name] as SchemaNode;
    body.push(`/** ${docText(def["description"])} */`);
    body.push(`export const ${name}Schema = ${expr(def, regexName, name)};`, "");
  }
  const lines = [
    banner,
    'import { z } from "zod";',
    'import { ucs2length } from "../ajv-runtime.js";',
    "",
    "const length = (min: number, max: number) => (value: string) => {",
    "  const n = ucs2length(value);",
    "  return n >= min && n <= max;",
    "};",
    "const noProtoKey = (value: unknown) =>",
    '  typeof value !== "object" || value === null || !Object.prototype.hasOwnProperty.call(value, "__proto__");',
    "type Rule = { tag: string; values: readonly unknown[]; required: readonly string[]; forbidden: readonly string[] };",
    "const conditional = (rules: readonly Rule[]) => (value: Record<string, unknown>, ctx: z.RefinementCtx) => {",
    "  for (const rule of rules) {",
    "    if (!rule.values.includes(value[rule.tag])) continue;",
    "    for (const key of rule.required) {",
    "      if (value[key] === undefined) ctx.addIssue({ code: \"custom\", path: [key], message: `required when ${rule.tag} is ${String(value[rule.tag])}` });",
    "    }",
    "    for (const key of rule.forbidden) {",
    "      if (value[key] !== undefined) ctx.addIssue({ code: \"custom\", path: [key], message: `not allowed when ${rule.tag} is ${String(value[rule.tag])}` });",
    "    }",
    "  }",
    "};",
    "const keyCount = (min: number, max: number) => (value: object) => {",
    "  const n = Object.keys(value).length;",
    "  return n >= min && n <= max;",
    "};",
    "",
    ...[...regexes].map(([pattern, name]) => `const ${name} = new RegExp(${JSON.stringify(pattern)}, "u");`),
    "",
    ...body,
    "/** The zod schema of every canonical entity, by entity name. */",
    "export const entitySchemas = {",
    ...entityTitles.map((t) => `  ${t}: ${t}Schema,`),
    "} as const;",
    "",
  ];
  return lines.join("\n");
}

const HANDLED = new Set([
  "title", "description", "examples", "x-transitions", "x-natural-key", "x-event",
  "type", "enum", "const", "$ref", "properties", "required", "additionalProperties", "propertyNames",
  "minProperties", "maxProperties", "items", "minItems", "maxItems", "minLength", "maxLength",
  "pattern", "format", "minimum", "maximum", "oneOf", "discriminator", "allOf",
]);

function expr(node: SchemaNode, regexName: (p: string) => string, where: string): string {
  for (const key of Object.keys(node)) {
    if (!HANDLED.has(key)) throw new Error(`${where}: the zod emitter does not translate "${key}"`);
  }
  if (typeof node["$ref"] === "string") return `${refName(node["$ref"])}Schema`;
  if (node["const"] !== undefined) return `z.literal(${JSON.stringify(node["const"])})`;
  if (Array.isArray(node["enum"])) {
    if (!node["enum"].every((v) => typeof v === "string")) throw new Error(`${where}: only string enums are supported`);
    return `z.enum(${JSON.stringify(node["enum"])})`;
  }
  if (Array.isArray(node["oneOf"])) return discriminatedUnion(node["oneOf"] as SchemaNode[], node["discriminator"], where);
  const type = node["type"];
  if (Array.isArray(type)) {
    return `z.union([${type.map((t) => scalar(String(t), node, regexName, where)).join(", ")}])`;
  }
  if (type === "object") return object(node, regexName, where);
  if (type === "array") {
    const item = expr(node["items"] as SchemaNode, regexName, `${where}[]`);
    const max = node["maxItems"];
    const min = node["minItems"];
    // json-schema-to-typescript types minItems 1 as [T, ...T[]]; a zod tuple with a rest element
    // infers the same (zod 4's nonempty() would infer T[]).
    let out: string;
    if (min === 1) out = `z.tuple([${item}], ${item})`;
    else if (min === undefined) out = `z.array(${item})`;
    else throw new Error(`${where}: only minItems 1 is supported`);
    if (typeof max === "number") {
      out += min === 1 ? `.refine((items) => items.length <= ${max}, { message: "must have at most ${max} items" })` : `.max(${max})`;
    }
    return out;
  }
  if (typeof type === "string") return scalar(type, node, regexName, where);
  throw new Error(`${where}: cannot translate a schema without type, $ref, enum, const or oneOf`);
}

function scalar(type: string, node: SchemaNode, regexName: (p: string) => string, where: string): string {
  switch (type) {
    case "string": {
      const format = node["format"];
      let out =
        format === "date-time" ? "z.iso.datetime({ offset: true })"
        : format === "date" ? "z.iso.date()"
        : format === "uuid" ? "z.uuid()"
        : format === undefined ? "z.string()"
        : fail(`${where}: unsupported format ${String(format)}`);
      if (typeof node["pattern"] === "string") out += `.regex(${regexName(node["pattern"])})`;
      const min = node["minLength"];
      const max = node["maxLength"];
      if (typeof min === "number" || typeof max === "number") {
        const lo = typeof min === "number" ? min : 0;
        const hi = typeof max === "number" ? max : "Infinity";
        out += `.refine(length(${lo}, ${hi}), { message: "length must be ${lo} to ${hi} characters" })`;
      }
      return out;
    }
    case "integer":
    case "number": {
      let out = type === "integer" ? "z.number().int()" : "z.number()";
      if (typeof node["minimum"] === "number") out += `.gte(${node["minimum"]})`;
      if (typeof node["maximum"] === "number") out += `.lte(${node["maximum"]})`;
      return out;
    }
    case "boolean":
      return "z.boolean()";
    case "null":
      return "z.null()";
    default:
      return fail(`${where}: unsupported type ${type}`);
  }
}

function object(node: SchemaNode, regexName: (p: string) => string, where: string): string {
  const props = node["properties"] as Record<string, SchemaNode> | undefined;
  const additional = node["additionalProperties"];
  let out: string;
  if (props !== undefined) {
    if (additional !== false) throw new Error(`${where}: objects with properties must be closed`);
    const required = new Set((node["required"] as string[] | undefined) ?? []);
    const fields = Object.entries(props).map(([key, prop]) => {
      const e = expr(prop, regexName, `${where}.${key}`);
      return `  ${JSON.stringify(key)}: ${required.has(key) ? e : `${e}.exactOptional()`},`;
    });
    out = `z.strictObject({\n${fields.join("\n")}\n})`;
  } else if (typeof additional === "object" && additional !== null) {
    const names = node["propertyNames"] as SchemaNode | undefined;
    const key = names === undefined ? "z.string()" : expr({ type: "string", ...names }, regexName, `${where}{key}`);
    // zod's record drops an own "__proto__" key without looking at it; JSON Schema sees it, so
    // reject it before zod does, or the two validators would disagree.
    out = `z.unknown().refine(noProtoKey, { message: "the key __proto__ is not allowed" }).pipe(z.record(${key}, ${expr(additional as SchemaNode, regexName, `${where}{}`)}))`;
  } else {
    throw new Error(`${where}: an object needs properties or an additionalProperties schema`);
  }
  const min = node["minProperties"];
  const max = node["maxProperties"];
  if (typeof min === "number" || typeof max === "number") {
    const lo = typeof min === "number" ? min : 0;
    const hi = typeof max === "number" ? max : "Infinity";
    out += `.refine(keyCount(${lo}, ${hi}), { message: "must have ${lo} to ${hi} properties" })`;
  }
  if (node["allOf"] !== undefined) {
    const rules = conditionalRules(node);
    if (rules === undefined) throw new Error(`${where}: allOf is only supported as conditional requirements`);
    // JSON Schema's if/then: required or forbidden properties by the tag's value. A refinement
    // keeps the inferred type flat, as json-schema-to-typescript declares it.
    out += `.superRefine(conditional(${JSON.stringify(rules)}))`;
  }
  return out;
}

function discriminatedUnion(branches: readonly SchemaNode[], discriminator: unknown, where: string): string {
  const tag = (discriminator as { propertyName?: unknown } | undefined)?.propertyName;
  if (typeof tag !== "string") throw new Error(`${where}: oneOf needs a discriminator with a propertyName`);
  const names = branches.map((b) => {
    if (typeof b["$ref"] !== "string") throw new Error(`${where}: oneOf branches must be $refs`);
    return refName(b["$ref"]);
  });
  return `z.discriminatedUnion(${JSON.stringify(tag)}, [${names.map((n) => `${n}Schema`).join(", ")}])`;
}

function refName(ref: string): string {
  const m = /^#\/\$defs\/([A-Za-z0-9]+)$/.exec(ref);
  if (m === null) throw new Error(`bundle $ref ${ref} is not #/$defs/<Name>`);
  return m[1] as string;
}

function topologicalOrder(defs: Record<string, SchemaNode>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string): void => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`recursive $ref through ${name} is not supported by the zod emitter`);
    state.set(name, "visiting");
    for (const dep of refsOf(defs[name] as SchemaNode)) visit(dep);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of Object.keys(defs).sort()) visit(name);
  return order;
}

function refsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsOf);
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) => (k === "$ref" && typeof v === "string" ? [refName(v)] : refsOf(v)));
}

function docText(description: unknown): string {
  return String(description ?? "").replace(/\*\//g, "* /");
}

function fail(message: string): never {
  throw new Error(message);
}
