import type { SchemaNode } from "@millwright/contract";

// The language-neutral model the per-language emitters write: one declaration per definition of the
// contract, named after it, plus one per inline enum, object or union, named after the definition and
// property that hold it (`EquipmentRefLevel`). Every `$ref` stays a reference to its definition, so a
// definition is declared once however many places use it.

/** A type as a property or an element uses it. */
export type TypeRef =
  | { readonly kind: "string" | "integer" | "number" | "boolean" | "any" }
  | { readonly kind: "named"; readonly name: string }
  | { readonly kind: "array"; readonly items: TypeRef }
  | { readonly kind: "map"; readonly values: TypeRef };

/** One property of an object declaration, in the contract's order. */
export interface PropertyModel {
  /** The property's name in JSON, exactly as the contract spells it. */
  readonly name: string;
  readonly type: TypeRef;
  readonly required: boolean;
  readonly description?: string;
}

/** A named type: a record with properties, a set of string values, or another name for a type. */
export type Declaration =
  | { readonly kind: "object"; readonly name: string; readonly description?: string; readonly properties: readonly PropertyModel[]; readonly union?: readonly string[] }
  | { readonly kind: "enum"; readonly name: string; readonly description?: string; readonly values: readonly string[] }
  | { readonly kind: "alias"; readonly name: string; readonly description?: string; readonly target: TypeRef };

/** The declarations to emit, by name, and the entities asked for. */
export interface CodeModel {
  readonly declarations: ReadonlyMap<string, Declaration>;
  readonly roots: readonly string[];
}

type Node = Record<string, unknown>;

const SCALARS = new Set(["string", "integer", "number", "boolean"]);

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z0-9])/g, (_m, _s: string, c: string) => c.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase());
}

/** `reasons` → `Reason`, `lines` → `Line`: the element of a list is named in the singular. */
function singular(name: string): string {
  return /[^s]s$/.test(name) ? name.slice(0, -1) : `${name}Item`;
}

const refName = (ref: string): string => ref.slice("#/$defs/".length);

/**
 * Builds the model from checked definitions (see `prepareBundle`): one declaration per definition the
 * roots reach, inline types named `<Definition><Property>`.
 *
 * @param defs - the bundle's definitions, every `$ref` already `#/$defs/<Name>`
 * @param roots - the definitions asked for
 * @returns the declarations and the roots
 */
export function toCodeModel(defs: Readonly<Record<string, SchemaNode>>, roots: readonly string[]): CodeModel {
  const declarations = new Map<string, Declaration>();
  const taken = new Set(Object.keys(defs));
  const fresh = (wanted: string): string => {
    let name = wanted;
    for (let i = 2; taken.has(name); i++) name = `${wanted}${i}`;
    taken.add(name);
    return name;
  };
  const described = <T extends object>(value: T, node: Node): T => {
    const text = node["description"];
    return typeof text === "string" ? { ...value, description: text } : value;
  };

  const visitDef = (name: string): void => {
    if (declarations.has(name)) return;
    const node = defs[name] as Node | undefined;
    if (node === undefined) return;
    // Reserve the name before the walk, so recursive definitions terminate.
    declarations.set(name, { kind: "alias", name, target: { kind: "any" } });
    declarations.set(name, declare(name, node));
  };

  /** The declaration for a definition or an inline schema that gets a name. */
  const declare = (name: string, node: Node): Declaration => {
    const union = unionMembers(node);
    if (union !== undefined) return described({ kind: "object", name, properties: mergedProperties(union), union: union.map((m) => m.name) }, node);
    if (isEnum(node)) return described({ kind: "enum", name, values: (node["enum"] as unknown[]).map(String) }, node);
    if (isRecord(node)) return described({ kind: "object", name, properties: propertiesOf(name, node) }, node);
    return described({ kind: "alias", name, target: typeOf(node, name) }, node);
  };

  const unionMembers = (node: Node): { name: string; node: Node }[] | undefined => {
    const list = (node["oneOf"] ?? node["anyOf"]) as unknown[] | undefined;
    if (!Array.isArray(list) || list.length === 0) return undefined;
    const members: { name: string; node: Node }[] = [];
    for (const member of list) {
      const ref = (member as Node)["$ref"];
      if (typeof ref !== "string") return undefined;
      const target = defs[refName(ref)] as Node | undefined;
      if (target === undefined || !isRecord(target)) return undefined;
      visitDef(refName(ref));
      members.push({ name: refName(ref), node: target });
    }
    return members;
  };

  /** The variants' properties in one record: a property is required when every variant requires it. */
  const mergedProperties = (members: readonly { name: string; node: Node }[]): PropertyModel[] => {
    const out = new Map<string, PropertyModel>();
    for (const member of members) {
      const decl = declarations.get(member.name);
      for (const prop of decl?.kind === "object" ? decl.properties : []) {
        const everywhere = members.every((m) => ((m.node["required"] as string[] | undefined) ?? []).includes(prop.name));
        if (!out.has(prop.name)) out.set(prop.name, { ...prop, required: everywhere });
      }
    }
    return [...out.values()];
  };

  const propertiesOf = (owner: string, node: Node): PropertyModel[] => {
    const required = new Set((node["required"] as string[] | undefined) ?? []);
    const sources: Node[] = [node];
    // allOf members add properties; their if/then branches only add rules, which validators check.
    for (const part of (node["allOf"] as Node[] | undefined) ?? []) sources.push(part);
    const out = new Map<string, PropertyModel>();
    for (const source of sources) {
      for (const name of (source["required"] as string[] | undefined) ?? []) required.add(name);
      for (const [name, schema] of Object.entries((source["properties"] as Record<string, Node> | undefined) ?? {})) {
        if (out.has(name)) continue;
        out.set(name, described({ name, type: typeOf(schema, `${owner}${pascal(name)}`), required: false }, schema));
      }
    }
    return [...out.values()].map((p) => ({ ...p, required: required.has(p.name) }));
  };

  /** The type of a schema; an inline enum, record or union becomes a declaration named `inline`. */
  const typeOf = (node: Node | boolean, inline: string): TypeRef => {
    if (typeof node === "boolean") return { kind: "any" };
    const ref = node["$ref"];
    if (typeof ref === "string") {
      visitDef(refName(ref));
      return { kind: "named", name: refName(ref) };
    }
    if (isEnum(node) || isRecord(node) || unionMembers(node) !== undefined) {
      const name = fresh(inline);
      declarations.set(name, declare(name, node));
      return { kind: "named", name };
    }
    const constant = node["const"];
    if (typeof constant === "string" || typeof constant === "boolean") return { kind: typeof constant as "string" };
    if (typeof constant === "number") return { kind: Number.isInteger(constant) ? "integer" : "number" };
    const type = node["type"];
    if (Array.isArray(type)) return type.length === 1 && SCALARS.has(String(type[0])) ? { kind: type[0] as "string" } : { kind: "any" };
    if (type === "array") return { kind: "array", items: typeOf((node["items"] ?? true) as Node | boolean, singular(inline)) };
    if (type === "object") {
      const values = node["additionalProperties"];
      return { kind: "map", values: values === undefined || values === false ? { kind: "any" } : typeOf(values as Node | boolean, `${inline}Value`) };
    }
    if (typeof type === "string" && SCALARS.has(type)) return { kind: type as "string" };
    return { kind: "any" };
  };

  for (const root of roots) visitDef(root);
  return { declarations: new Map([...declarations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), roots };
}

function isEnum(node: Node): boolean {
  return Array.isArray(node["enum"]) && (node["enum"] as unknown[]).every((v) => typeof v === "string");
}

/** An object with named properties (a map of free keys is not a record). */
function isRecord(node: Node): boolean {
  return typeof node["properties"] === "object" || (Array.isArray(node["allOf"]) && node["type"] === "object");
}

/** Turns a JSON value into an identifier's words: `in_progress` → `["in", "progress"]`. */
export function words(value: string): string[] {
  return value
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** `in_progress` → `InProgress`; a name that would start with a digit gets a `V`. */
export function pascalWords(value: string): string {
  const name = words(value).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return name === "" ? "Empty" : /^[0-9]/.test(name) ? `V${name}` : name;
}

/** Names for each value that do not collide: a later value that maps to a taken name gets a number. */
export function uniqueNames(values: readonly string[], nameOf: (value: string) => string): string[] {
  const seen = new Set<string>();
  return values.map((value) => {
    const base = nameOf(value);
    let name = base;
    for (let i = 2; seen.has(name); i++) name = `${base}${i}`;
    seen.add(name);
    return name;
  });
}

/** The type an alias stands for, followed through aliases of aliases (Java and C# have no aliases). */
export function resolveAlias(model: CodeModel, type: TypeRef): TypeRef {
  for (let depth = 0; type.kind === "named" && depth < 32; depth++) {
    const decl = model.declarations.get(type.name);
    if (decl?.kind !== "alias") return type;
    type = decl.target;
  }
  return type;
}

/** The lines of a description, ready to prefix with each language's comment marker. */
export function commentLines(text: string | undefined): string[] {
  return text === undefined ? [] : text.split("\n").map((line) => line.trimEnd());
}
