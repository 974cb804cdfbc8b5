import { err, ok, type Result } from "neverthrow";
import type { SchemaNode } from "@millwright/contract";
import { boundText, escapeControls, previewValue } from "./text.js";

// A bundle given to `codegen --schemas` is untrusted input. The generators behind codegen resolve
// `$ref`s over the network and from files, honour nested `$id`s as new bases, emit keywords such as
// `tsType` verbatim, and write names and texts into source code. This module checks the bundle once,
// before any generator sees it, and hands on a copy that holds only what the generators need.

/** Why a bundle cannot be turned into code; the same codes appear in {@link CodegenError}. */
export type BundleIssueCode = "external_ref" | "unresolved_ref" | "invalid_name" | "unsupported_keyword" | "invalid_text" | "invalid_schema";

/** One problem with a bundle: where (a JSON Pointer into the bundle), the value and the rule. */
export interface BundleIssue {
  readonly code: BundleIssueCode;
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly value?: unknown;
}

/** The checked bundle: its definitions by name (copied, ready for the generators) and its root entities. */
export interface PreparedBundle {
  readonly defs: Readonly<Record<string, SchemaNode>>;
  readonly roots: readonly string[];
}

/** A type name: it becomes a class, struct or interface name in every language. */
const TYPE_NAME = /^[A-Z][A-Za-z0-9]{0,127}$/;
const TYPE_NAME_RULE = "is not a type name: a letter A-Z, then letters and digits (at most 128 characters)";
/** A property name: generators write it into string literals, struct tags and identifiers. */
const PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
const PROPERTY_NAME_RULE = "is not a property name: a letter, then letters, digits and _ (at most 128 characters)";

// Characters no generator writes safely into a string literal of every language (a raw CR ends a Java
// string, a NUL is refused by Python), and lone surrogates, which are not text.
const UNWRITABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Keywords the generators translate (the house schema rules allow only these), and where their
// values are schemas. Everything else, including `$id` below the root and generator-specific
// keywords such as json-schema-to-typescript's `tsType`, is refused.
const SCHEMA_KEYWORDS = new Set([
  "$ref", "title", "description", "type", "enum", "const", "properties", "required", "additionalProperties",
  "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems", "minLength", "maxLength",
  "pattern", "format", "minimum", "maximum", "oneOf", "anyOf", "allOf", "if", "then",
  "discriminator", "examples", "x-transitions", "x-natural-key", "x-event",
]);
/** Annotations no generator reads: checked for `$ref`s, then left out of the generators' input. */
const DATA_ONLY = new Set(["examples", "discriminator", "x-transitions", "x-natural-key", "x-event"]);
const SINGLE_SCHEMA = new Set(["items", "additionalProperties", "propertyNames", "if", "then"]);
const SCHEMA_LISTS = new Set(["oneOf", "anyOf", "allOf"]);
const NUMBERS = new Set(["minProperties", "maxProperties", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum"]);
const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
const ROOT_KEYWORDS = new Set(["$schema", "$id", "title", "description", "anyOf", "$defs"]);

/** Escapes one JSON Pointer reference token (RFC 6901). */
function token(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

function issue(code: BundleIssueCode, path: string, rule: string, value?: unknown): BundleIssue {
  const shown = value === undefined ? "" : ` ${previewValue(value)}`;
  const message = `${escapeControls(boundText(path, 200))}:${shown} ${rule}`;
  return value === undefined ? { code, path, rule, message } : { code, path, rule, message, value: bounded(value) };
}

/** Keeps the offending value in the error, cut when it is long text. */
function bounded(value: unknown): unknown {
  return typeof value === "string" ? boundText(value, 200) : value;
}

/**
 * Documentation text: line breaks of every kind become `\n` and other control characters go, so a
 * description stays inside the comment every generator writes it into. Java reads `\u` escapes
 * even inside comments (a `\u002a/` ends a comment), so for Java a backslash is written as the
 * HTML entity Javadoc shows as a backslash.
 */
function cleanDescription(text: string, lang: string): string {
  const lines = text
    .replace(/\r\n?|[\u0085\u2028\u2029]/g, "\n")
    .replace(/\t/g, " ")
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "");
  return lang === "java" ? lines.replaceAll("\\", "&#92;") : lines;
}

interface Walk {
  readonly defs: Readonly<Record<string, unknown>>;
  readonly base: URL | undefined;
  readonly lang: string;
}

/**
 * Reads a `$ref` found at `path`: a pointer into the bundle's `$defs` (`#/$defs/<Name>`), directly or
 * relative to the bundle's own `$id`. Returns the definition's name.
 */
function refTarget(ref: unknown, path: string, walk: Walk): Result<string, BundleIssue> {
  if (typeof ref !== "string") return err(issue("invalid_schema", path, "a $ref is a string", ref));
  let fragment: string | undefined;
  if (ref.startsWith("#")) fragment = ref.slice(1);
  else if (walk.base !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(ref, walk.base);
    } catch {
      url = undefined;
    }
    if (url !== undefined && url.href.split("#")[0] === walk.base.href.split("#")[0]) fragment = url.hash.slice(1);
  }
  if (fragment === undefined) {
    return err(issue("external_ref", path, "points outside the bundle; codegen follows only references into the bundle's own $defs (#/$defs/<Name>) and never fetches or reads a schema", ref));
  }
  let pointer: string;
  try {
    pointer = decodeURIComponent(fragment);
  } catch {
    pointer = fragment;
  }
  const match = /^\/\$defs\/([^/]+)$/.exec(pointer);
  const name = match?.[1]?.replaceAll("~1", "/").replaceAll("~0", "~");
  if (name === undefined || !Object.hasOwn(walk.defs, name)) {
    return err(issue("unresolved_ref", path, "points at none of the bundle's $defs; a $ref is #/$defs/<Name> for a definition of the bundle", ref));
  }
  return ok(name);
}

/** Checks every `$ref` inside annotation data (json-schema-to-typescript's resolver follows them anywhere). */
function checkDataRefs(value: unknown, path: string, walk: Walk): BundleIssue | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = checkDataRefs(value[i], `${path}/${i}`, walk);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const at = `${path}/${token(key)}`;
    if (key === "$ref") {
      const target = refTarget(child, at, walk);
      if (target.isErr()) return target.error;
    } else {
      const found = checkDataRefs(child, at, walk);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Checks enum and const values: strings a generator writes into string literals of every language. */
function checkLiteral(value: unknown, path: string, walk: Walk): BundleIssue | undefined {
  if (typeof value === "string" && UNWRITABLE.test(value)) {
    return issue("invalid_text", path, "has a control character, a line separator or a lone surrogate, which not every language's string literals can hold", value);
  }
  if (typeof value === "object" && value !== null) {
    const refs = checkDataRefs(value, path, walk);
    if (refs !== undefined) return refs;
    for (const [key, child] of Object.entries(value)) {
      const found = checkLiteral(child, `${path}/${token(key)}`, walk);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function checkSchema(node: unknown, path: string, walk: Walk): Result<unknown, BundleIssue> {
  if (typeof node === "boolean") return ok(node);
  if (typeof node !== "object" || node === null || Array.isArray(node)) return err(issue("invalid_schema", path, "a schema is an object or a boolean", node));
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown): void => {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  };
  for (const [key, value] of Object.entries(node)) {
    const at = `${path}/${token(key)}`;
    if (!SCHEMA_KEYWORDS.has(key)) {
      const rule = key === "$id" || key === "$schema" || key === "$defs" ? `is allowed only at the root of the bundle` : "is not a keyword the generators translate";
      return err(issue("unsupported_keyword", at, rule, key));
    }
    if (key === "$ref") {
      const target = refTarget(value, at, walk);
      if (target.isErr()) return err(target.error);
      put(key, `#/$defs/${target.value}`);
    } else if (DATA_ONLY.has(key)) {
      const found = checkDataRefs(value, at, walk);
      if (found !== undefined) return err(found);
    } else if (key === "title") {
      if (typeof value !== "string" || !TYPE_NAME.test(value)) return err(issue("invalid_name", at, TYPE_NAME_RULE, value));
      put(key, value);
    } else if (key === "description") {
      if (typeof value !== "string") return err(issue("invalid_schema", at, "a description is a string", value));
      put(key, cleanDescription(value, walk.lang));
    } else if (key === "properties") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return err(issue("invalid_schema", at, "properties is an object of schemas", value));
      const props: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries(value)) {
        const propAt = `${at}/${token(name)}`;
        if (!PROPERTY_NAME.test(name)) return err(issue("invalid_name", propAt, PROPERTY_NAME_RULE, name));
        const checked = checkSchema(prop, propAt, walk);
        if (checked.isErr()) return checked;
        props[name] = checked.value;
      }
      put(key, props);
    } else if (key === "required") {
      if (!Array.isArray(value)) return err(issue("invalid_schema", at, "required is a list of property names", value));
      for (let i = 0; i < value.length; i++) {
        const name: unknown = value[i];
        if (typeof name !== "string" || !PROPERTY_NAME.test(name)) return err(issue("invalid_name", `${at}/${i}`, PROPERTY_NAME_RULE, name));
      }
      put(key, [...(value as string[])]);
    } else if (key === "enum" || key === "const") {
      if (key === "enum" && !Array.isArray(value)) return err(issue("invalid_schema", at, "enum is a list of values", value));
      const found = checkLiteral(value, at, walk);
      if (found !== undefined) return err(found);
      put(key, structuredClone(value));
    } else if (key === "type") {
      const list: unknown[] = Array.isArray(value) ? value : [value];
      if (list.some((t) => typeof t !== "string" || !TYPES.has(t))) return err(issue("invalid_schema", at, `type is one of ${[...TYPES].join(", ")}, or a list of them`, value));
      put(key, Array.isArray(value) ? [...list] : value);
    } else if (NUMBERS.has(key)) {
      if (typeof value !== "number" || !Number.isFinite(value)) return err(issue("invalid_schema", at, `${key} is a number`, value));
      put(key, value);
    } else if (key === "pattern" || key === "format") {
      if (typeof value !== "string") return err(issue("invalid_schema", at, `${key} is a string`, value));
      put(key, value);
    } else if (SINGLE_SCHEMA.has(key)) {
      const checked = checkSchema(value, at, walk);
      if (checked.isErr()) return checked;
      put(key, checked.value);
    } else if (SCHEMA_LISTS.has(key)) {
      if (!Array.isArray(value)) return err(issue("invalid_schema", at, `${key} is a list of schemas`, value));
      const list: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const checked = checkSchema(value[i], `${at}/${i}`, walk);
        if (checked.isErr()) return checked;
        list.push(checked.value);
      }
      put(key, list);
    }
  }
  return ok(out);
}

/**
 * Checks a schema bundle before code is generated from it and returns a clean copy: every `$ref`
 * points into the bundle's `$defs` (refs relative to the bundle's own `$id` are rewritten to
 * `#/$defs/<Name>`; any other ref, http(s), file or path, is refused, so nothing is fetched or
 * read), definition names and titles are type names, property names are identifiers, only the
 * keywords the generators translate occur, and descriptions are plain text.
 *
 * @param bundle - the bundle, as `@millwright/model/schemas/bundle.schema.json` publishes it
 * @param lang - the language the copy is for (descriptions are cleaned for it)
 * @returns the definitions and root entity names, or the first problem, naming its JSON Pointer
 */
export function prepareBundle(bundle: SchemaNode, lang: string): Result<PreparedBundle, BundleIssue> {
  for (const key of Object.keys(bundle)) {
    if (!ROOT_KEYWORDS.has(key)) return err(issue("unsupported_keyword", `/${token(key)}`, "is not a keyword of a bundle's root ($schema, $id, title, description, anyOf, $defs)", key));
  }
  const rawDefs = bundle["$defs"];
  if (typeof rawDefs !== "object" || rawDefs === null || Array.isArray(rawDefs)) {
    return err(issue("invalid_schema", "/$defs", "a bundle has $defs, an object of named schemas"));
  }
  const id = bundle["$id"];
  let base: URL | undefined;
  if (id !== undefined) {
    if (typeof id !== "string") return err(issue("invalid_schema", "/$id", "$id is a URI", id));
    try {
      base = new URL(id);
    } catch {
      base = undefined;
    }
  }
  const defsRecord = rawDefs as Record<string, unknown>;
  const walk: Walk = { defs: defsRecord, base, lang };
  const defs: Record<string, SchemaNode> = {};
  for (const [name, def] of Object.entries(defsRecord)) {
    const at = `/$defs/${token(name)}`;
    if (!TYPE_NAME.test(name)) return err(issue("invalid_name", at, TYPE_NAME_RULE, name));
    const checked = checkSchema(def, at, walk);
    if (checked.isErr()) return err(checked.error);
    if (typeof checked.value !== "object") return err(issue("invalid_schema", at, "a definition is a schema object", def));
    defs[name] = checked.value as SchemaNode;
  }
  const anyOf = bundle["anyOf"] ?? [];
  if (!Array.isArray(anyOf)) return err(issue("invalid_schema", "/anyOf", "anyOf is a list of {$ref: #/$defs/<Name>}", anyOf));
  const roots: string[] = [];
  for (let i = 0; i < anyOf.length; i++) {
    const entry: unknown = anyOf[i];
    const at = `/anyOf/${i}`;
    if (typeof entry !== "object" || entry === null || Object.keys(entry).join() !== "$ref") {
      return err(issue("invalid_schema", at, "each root entry is {$ref: #/$defs/<Name>}", entry));
    }
    const target = refTarget((entry as { $ref: unknown }).$ref, `${at}/$ref`, walk);
    if (target.isErr()) return err(target.error);
    if (!roots.includes(target.value)) roots.push(target.value);
  }
  for (const key of ["title", "description", "$schema"] as const) {
    if (bundle[key] !== undefined && typeof bundle[key] !== "string") return err(issue("invalid_schema", `/${key}`, `${key} is a string`, bundle[key]));
  }
  return ok({ defs, roots });
}
