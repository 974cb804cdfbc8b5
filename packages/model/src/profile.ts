import { err, ok, type Result } from "neverthrow";
import { ucs2length } from "./ajv-runtime.js";
import { pointer, preview } from "./errors.js";
import { formats } from "./formats.js";
import { entityNames, type EntityName } from "./generated/catalog.js";
import { entityPaths } from "./generated/paths.js";

/*
 * Plant profiles: a plant's extension namespaces and stricter rules, as a JSON document. A profile
 * is checked only after the global contract has accepted a record, so it can reject more records
 * but never accept one the global contract rejects. Loading a profile also refuses anything that
 * could not hold for any globally valid record (a non-scalar field, a path the contract does not
 * have, a namespace name the contract forbids): such a profile would not narrow the contract, it
 * would break it.
 *
 * The schemas of the namespaces use a small, closed subset of JSON Schema (the profile dialect,
 * schemas/profile/profile.schema.json), interpreted here rather than compiled: no code is
 * generated at run time, nothing is fetched, and every language can apply the same rules.
 */

/** The scalar JSON types an extension value may have under the global contract. */
export type ProfileScalarType = "string" | "number" | "integer" | "boolean" | "null";

/** A scalar JSON value: what an extension field holds. */
export type ProfileScalar = string | number | boolean | null;

/** The `format`s a profile field may name; they are the ones the canonical schemas use. */
export type ProfileFormat = "date" | "date-time" | "uuid";

/** The schema of one field of an extension namespace: a scalar, narrowed by the keywords below. */
export interface ProfileFieldSchema {
  readonly type?: ProfileScalarType | readonly ProfileScalarType[];
  readonly enum?: readonly ProfileScalar[];
  readonly const?: ProfileScalar;
  readonly pattern?: string;
  readonly format?: ProfileFormat;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly title?: string;
  readonly description?: string;
  readonly examples?: readonly ProfileScalar[];
  readonly deprecated?: boolean;
}

/** The schema of one extension namespace: an object of scalar fields. */
export interface ProfileNamespaceSchema {
  readonly type: "object";
  readonly title?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, ProfileFieldSchema>>;
  /** Fields that must be present whenever the namespace is. */
  readonly required?: readonly string[];
  /** Fields the profile does not declare: allowed (true, the default), refused (false), or checked by a schema. */
  readonly additionalProperties?: boolean | ProfileFieldSchema;
}

/**
 * A stricter rule of a plant: for records of `entity` whose values at the `when` paths are as
 * given, the `require` paths must be present.
 */
export interface ProfileRequirement {
  /** Names the rule in every issue it raises, such as `shift-code-at-1710`. */
  readonly id: string;
  readonly description?: string;
  readonly entity: EntityName;
  /** JSON Pointer → the value (or any of the values) the record has there; all must hold. Empty or absent: always. */
  readonly when?: Readonly<Record<string, ProfileScalar | readonly ProfileScalar[]>>;
  /** JSON Pointers that must be present, such as `/extensions/sap/ZZ1_ShiftModel_ORD`. */
  readonly require: readonly string[];
}

/** A profile as written: the JSON document `loadProfile` reads. */
export interface ProfileDocument {
  readonly $schema?: string;
  /** The profile's name, such as `plant-1710`. */
  readonly id: string;
  /** Its version, such as `1.0.0`; issues name the profile as `id@version`. */
  readonly version: string;
  readonly description?: string;
  /** The plant's extension namespaces, by name, each with its schema. */
  readonly extensions?: Readonly<Record<string, ProfileNamespaceSchema>>;
  readonly requirements?: readonly ProfileRequirement[];
}

/**
 * A loaded plant profile: its document, checked. Only {@link loadProfile} makes one; pass it to a
 * parser as `parseWorkOrder(input, { profile })`.
 */
export interface Profile {
  /** `id@version`, as every issue of this profile names it. */
  readonly name: string;
  readonly document: ProfileDocument;
}

/** What is wrong with a profile document. */
export type ProfileIssueCode =
  /** A member is missing or of the wrong shape. */
  | "invalid_document"
  /** A keyword outside the profile dialect (`$ref`, `oneOf`, `not`, `if` …). */
  | "unsupported_keyword"
  /** The profile would break the global contract: a value it cannot carry, a name it forbids, a path it does not have. */
  | "breaks_contract"
  /** A rule no value can satisfy (an empty enum, a minimum above the maximum, a required field refused). */
  | "unsatisfiable";

/** One problem of a profile document, with its JSON Pointer into the document. */
export interface ProfileIssue {
  readonly code: ProfileIssueCode;
  readonly path: string;
  readonly rule: string;
  readonly message: string;
  readonly value?: unknown;
}

/** Why a profile could not be loaded: every problem found. */
export interface ProfileError {
  readonly code: "invalid_profile";
  readonly message: string;
  readonly issues: readonly ProfileIssue[];
}

/** The options every parser takes. */
export interface ParseOptions {
  /** A plant profile, checked after the global contract. */
  readonly profile?: Profile;
}

/** A compiled field check: undefined when the value passes, else the failure. */
interface FieldFailure {
  readonly keyword: string;
  readonly rule: string;
  readonly violation: string;
}
type FieldCheck = (value: ProfileScalar) => FieldFailure | undefined;

interface CompiledNamespace {
  readonly fields: ReadonlyMap<string, FieldCheck>;
  readonly required: readonly string[];
  readonly additional: boolean | FieldCheck;
}

/** @internal What a loaded profile checks, kept off the public object. */
export interface CompiledProfile {
  readonly name: string;
  readonly namespaces: ReadonlyMap<string, CompiledNamespace>;
  readonly requirements: readonly ProfileRequirement[];
}

const compiled = new WeakMap<Profile, CompiledProfile>();

/** @internal The checks of a profile {@link loadProfile} made; a programmer error for any other object. */
export function compiledProfile(profile: Profile): CompiledProfile {
  const c = compiled.get(profile);
  if (c === undefined) throw new TypeError("options.profile is not a profile made by loadProfile()");
  return c;
}

// The global contract's names (schemas/common/extensions.schema.json).
const NAMESPACE = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){0,7}$/;
const FIELD = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_FIELDS = 64;
const MAX_NAMESPACES = 16;
const MAX_STRING = 4096;
const PROFILE_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const SCALAR_TYPES: readonly ProfileScalarType[] = ["string", "number", "integer", "boolean", "null"];
const FIELD_KEYWORDS = new Set([
  "type", "enum", "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "title", "description", "examples", "deprecated",
]);
const NAMESPACE_KEYWORDS = new Set(["type", "title", "description", "properties", "required", "additionalProperties"]);
const DOCUMENT_KEYS = new Set(["$schema", "id", "version", "description", "extensions", "requirements"]);
const REQUIREMENT_KEYS = new Set(["id", "description", "entity", "when", "require"]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is ProfileScalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

function jsonType(v: ProfileScalar): ProfileScalarType {
  if (v === null) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as "string" | "boolean";
}

function typeMatches(v: ProfileScalar, types: readonly ProfileScalarType[]): boolean {
  const t = jsonType(v);
  return types.includes(t) || (t === "integer" && types.includes("number"));
}

/** Splits a JSON Pointer into its unescaped tokens; undefined when it is not one. */
function tokens(path: string): string[] | undefined {
  if (path === "" || !path.startsWith("/")) return undefined;
  return path
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** @internal The value at a JSON Pointer, own properties only; undefined when absent. */
export function valueAtPointer(data: unknown, path: string): unknown {
  let node = data;
  for (const t of tokens(path) ?? []) {
    if (!isRecord(node) || !Object.hasOwn(node, t)) return undefined;
    node = node[t];
  }
  return node;
}

class Collector {
  readonly issues: ProfileIssue[] = [];
  add(code: ProfileIssueCode, path: string, rule: string, message: string, value?: unknown): void {
    this.issues.push(value === undefined ? { code, path, rule, message } : { code, path, rule, message, value });
  }
}

function compileField(schema: unknown, at: string, c: Collector): FieldCheck | undefined {
  if (!isRecord(schema)) {
    c.add("invalid_document", at, "a field schema is an object", `${at}: a field schema is an object`, schema);
    return undefined;
  }
  const before = c.issues.length;
  for (const key of Object.keys(schema)) {
    if (!FIELD_KEYWORDS.has(key)) {
      const loosens = key === "$ref" || key === "$dynamicRef" || key === "oneOf" || key === "anyOf" || key === "allOf" || key === "not" || key === "if";
      c.add(
        "unsupported_keyword",
        pointer(at, key),
        `a field schema uses only ${[...FIELD_KEYWORDS].join(", ")}`,
        `${pointer(at, key)}: ${JSON.stringify(key)} is not in the profile dialect${loosens ? " (references and combinators could point outside the contract)" : ""}`,
        key,
      );
    }
  }
  const checks: FieldCheck[] = [];
  // type
  let types: readonly ProfileScalarType[] = SCALAR_TYPES;
  const rawType = schema["type"];
  if (rawType !== undefined) {
    const list = Array.isArray(rawType) ? rawType : [rawType];
    const bad = list.filter((t) => !(SCALAR_TYPES as readonly unknown[]).includes(t));
    if (list.length === 0 || bad.length > 0) {
      c.add(
        "breaks_contract",
        pointer(at, "type"),
        "an extension value is a string, number, integer, boolean or null",
        `${pointer(at, "type")}: ${preview(rawType)} is not a scalar type; the global contract carries only flat scalar extension values`,
        rawType,
      );
    } else {
      types = list as ProfileScalarType[];
      const named = types.join(" or ");
      checks.push((v) => (typeMatches(v, types) ? undefined : { keyword: "type", rule: `type ${named}`, violation: `is ${jsonType(v)}, not ${named}` }));
    }
  }
  // enum and const
  const rawEnum = schema["enum"];
  if (rawEnum !== undefined) {
    if (!Array.isArray(rawEnum) || !rawEnum.every(isScalar)) {
      c.add("breaks_contract", pointer(at, "enum"), "enum lists scalar values", `${pointer(at, "enum")}: an extension value is a scalar, so enum lists scalars`, rawEnum);
    } else {
      const allowed = rawEnum.filter((v) => typeMatches(v, types));
      if (allowed.length === 0) {
        c.add("unsatisfiable", pointer(at, "enum"), "enum has a value of the field's type", `${pointer(at, "enum")}: no value of ${preview(rawEnum)} has the field's type`, rawEnum);
      } else {
        const list = rawEnum.map((v) => JSON.stringify(v)).join(", ");
        checks.push((v) => (rawEnum.some((a) => a === v) ? undefined : { keyword: "enum", rule: `one of ${list}`, violation: "is not an allowed value" }));
      }
    }
  }
  if (Object.hasOwn(schema, "const")) {
    const k = schema["const"];
    if (!isScalar(k)) c.add("breaks_contract", pointer(at, "const"), "const is a scalar", `${pointer(at, "const")}: an extension value is a scalar`, k);
    else if (!typeMatches(k, types)) c.add("unsatisfiable", pointer(at, "const"), "const has the field's type", `${pointer(at, "const")}: ${preview(k)} does not have the field's type`, k);
    else checks.push((v) => (v === k ? undefined : { keyword: "const", rule: `equal to ${JSON.stringify(k)}`, violation: "is not an allowed value" }));
  }
  // strings
  const pattern = schema["pattern"];
  if (pattern !== undefined) {
    let re: RegExp | undefined;
    try {
      re = typeof pattern === "string" ? new RegExp(pattern, "u") : undefined;
    } catch {
      re = undefined;
    }
    if (re === undefined) c.add("invalid_document", pointer(at, "pattern"), "pattern is a regular expression", `${pointer(at, "pattern")}: ${preview(pattern)} is not a regular expression`, pattern);
    else {
      const r = re;
      checks.push((v) => (typeof v !== "string" || r.test(v) ? undefined : { keyword: "pattern", rule: `pattern ${String(pattern)}`, violation: "is not in the required format" }));
    }
  }
  const format = schema["format"];
  if (format !== undefined) {
    if (typeof format !== "string" || !Object.hasOwn(formats, format)) {
      c.add("unsupported_keyword", pointer(at, "format"), `format is one of ${Object.keys(formats).join(", ")}`, `${pointer(at, "format")}: ${preview(format)} is not a format of the profile dialect`, format);
    } else {
      const test = formats[format as ProfileFormat];
      checks.push((v) => (typeof v !== "string" || test(v) ? undefined : { keyword: "format", rule: `format ${format}`, violation: "is not in the required format" }));
    }
  }
  const bound = (key: string, ok: (n: number) => boolean): number | undefined => {
    const n = schema[key];
    if (n === undefined) return undefined;
    if (typeof n !== "number" || !Number.isFinite(n) || !ok(n)) {
      c.add("invalid_document", pointer(at, key), `${key} is a finite number${key.endsWith("Length") ? ", a whole one, 0 or more" : ""}`, `${pointer(at, key)}: ${preview(n)} is not a valid ${key}`, n);
      return undefined;
    }
    return n;
  };
  const whole = (n: number): boolean => Number.isInteger(n) && n >= 0;
  const minLength = bound("minLength", whole);
  const maxLength = bound("maxLength", whole);
  if (minLength !== undefined) {
    if (minLength > MAX_STRING) c.add("unsatisfiable", pointer(at, "minLength"), `minLength at most ${MAX_STRING}`, `${pointer(at, "minLength")}: the global contract allows at most ${MAX_STRING} characters`, minLength);
    checks.push((v) => (typeof v !== "string" || ucs2length(v) >= minLength ? undefined : { keyword: "minLength", rule: `minLength ${minLength}`, violation: "is too short" }));
  }
  if (maxLength !== undefined) {
    checks.push((v) => (typeof v !== "string" || ucs2length(v) <= maxLength ? undefined : { keyword: "maxLength", rule: `maxLength ${maxLength}`, violation: "is too long" }));
  }
  if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
    c.add("unsatisfiable", at, "minLength is at most maxLength", `${at}: minLength ${minLength} is above maxLength ${maxLength}`);
  }
  const any = (): boolean => true;
  const minimum = bound("minimum", any);
  const maximum = bound("maximum", any);
  const exMin = bound("exclusiveMinimum", any);
  const exMax = bound("exclusiveMaximum", any);
  const num = (key: string, limit: number | undefined, passes: (v: number, l: number) => boolean, violation: string): void => {
    if (limit !== undefined) checks.push((v) => (typeof v !== "number" || passes(v, limit) ? undefined : { keyword: key, rule: `${key} ${limit}`, violation }));
  };
  num("minimum", minimum, (v, l) => v >= l, "is too small");
  num("maximum", maximum, (v, l) => v <= l, "is too large");
  num("exclusiveMinimum", exMin, (v, l) => v > l, "is too small");
  num("exclusiveMaximum", exMax, (v, l) => v < l, "is too large");
  const low = Math.max(minimum ?? -Infinity, exMin ?? -Infinity);
  const high = Math.min(maximum ?? Infinity, exMax ?? Infinity);
  if (low > high || (low === high && (exMin === low || exMax === high))) {
    c.add("unsatisfiable", at, "the lower bound is below the upper bound", `${at}: no number lies between the lower bound ${low} and the upper bound ${high}`);
  }
  for (const key of ["title", "description"]) {
    if (schema[key] !== undefined && typeof schema[key] !== "string") c.add("invalid_document", pointer(at, key), `${key} is a string`, `${pointer(at, key)}: ${key} is a string`, schema[key]);
  }
  if (schema["deprecated"] !== undefined && typeof schema["deprecated"] !== "boolean") {
    c.add("invalid_document", pointer(at, "deprecated"), "deprecated is a boolean", `${pointer(at, "deprecated")}: deprecated is a boolean`, schema["deprecated"]);
  }
  if (schema["examples"] !== undefined && !(Array.isArray(schema["examples"]) && schema["examples"].every(isScalar))) {
    c.add("invalid_document", pointer(at, "examples"), "examples lists scalar values", `${pointer(at, "examples")}: examples lists scalar values`, schema["examples"]);
  }
  if (c.issues.length > before) return undefined;
  return (v) => {
    for (const check of checks) {
      const failure = check(v);
      if (failure !== undefined) return failure;
    }
    return undefined;
  };
}

function compileNamespace(name: string, schema: unknown, at: string, c: Collector): CompiledNamespace | undefined {
  if (!NAMESPACE.test(name)) {
    c.add("breaks_contract", at, `a namespace name matches ${NAMESPACE.source}`, `${at}: the global contract does not allow the namespace name ${preview(name)}`, name);
  }
  if (!isRecord(schema)) {
    c.add("invalid_document", at, "a namespace schema is an object schema", `${at}: a namespace schema is an object schema`, schema);
    return undefined;
  }
  const before = c.issues.length;
  for (const key of Object.keys(schema)) {
    if (!NAMESPACE_KEYWORDS.has(key)) {
      c.add("unsupported_keyword", pointer(at, key), `a namespace schema uses only ${[...NAMESPACE_KEYWORDS].join(", ")}`, `${pointer(at, key)}: ${JSON.stringify(key)} is not in the profile dialect`, key);
    }
  }
  if (schema["type"] !== "object") {
    c.add("breaks_contract", pointer(at, "type"), 'a namespace is "object"', `${pointer(at, "type")}: an extension namespace is an object of scalar fields`, schema["type"]);
  }
  const fields = new Map<string, FieldCheck>();
  const properties = schema["properties"] ?? {};
  if (!isRecord(properties)) {
    c.add("invalid_document", pointer(at, "properties"), "properties is an object", `${pointer(at, "properties")}: properties is an object of field schemas`, properties);
  } else {
    const names = Object.keys(properties);
    if (names.length > MAX_FIELDS) {
      c.add("breaks_contract", pointer(at, "properties"), `at most ${MAX_FIELDS} fields`, `${pointer(at, "properties")}: the global contract allows at most ${MAX_FIELDS} fields in a namespace`, names.length);
    }
    for (const field of names) {
      const fieldAt = pointer(pointer(at, "properties"), field);
      if (!FIELD.test(field)) {
        c.add("breaks_contract", fieldAt, `a field name matches ${FIELD.source}`, `${fieldAt}: the global contract does not allow the field name ${preview(field)}`, field);
        continue;
      }
      const check = compileField(properties[field], fieldAt, c);
      if (check !== undefined) fields.set(field, check);
    }
  }
  let additional: boolean | FieldCheck = true;
  const rawAdditional = schema["additionalProperties"];
  if (typeof rawAdditional === "boolean") additional = rawAdditional;
  else if (rawAdditional !== undefined) additional = compileField(rawAdditional, pointer(at, "additionalProperties"), c) ?? true;
  const required: string[] = [];
  const rawRequired = schema["required"] ?? [];
  if (!Array.isArray(rawRequired) || !rawRequired.every((r) => typeof r === "string")) {
    c.add("invalid_document", pointer(at, "required"), "required lists field names", `${pointer(at, "required")}: required lists field names`, rawRequired);
  } else {
    rawRequired.forEach((field, i) => {
      const fieldAt = pointer(pointer(at, "required"), i);
      if (!FIELD.test(field)) c.add("breaks_contract", fieldAt, `a field name matches ${FIELD.source}`, `${fieldAt}: the global contract does not allow the field name ${preview(field)}`, field);
      else if (!fields.has(field) && additional === false && isRecord(properties) && !Object.hasOwn(properties, field)) {
        c.add("unsatisfiable", fieldAt, "a required field is allowed", `${fieldAt}: ${preview(field)} is required but additionalProperties is false and it is not declared`, field);
      } else required.push(field);
    });
    if (rawRequired.length > MAX_FIELDS) c.add("breaks_contract", pointer(at, "required"), `at most ${MAX_FIELDS} fields`, `${pointer(at, "required")}: the global contract allows at most ${MAX_FIELDS} fields`, rawRequired.length);
  }
  for (const key of ["title", "description"]) {
    if (schema[key] !== undefined && typeof schema[key] !== "string") c.add("invalid_document", pointer(at, key), `${key} is a string`, `${pointer(at, key)}: ${key} is a string`, schema[key]);
  }
  return c.issues.length > before ? undefined : { fields, required, additional };
}

/** Whether a requirement may name a path: a property of the entity, or a field of a namespace the profile declares. */
function pathKind(entity: EntityName, path: string, namespaces: Readonly<Record<string, unknown>>): "scalar" | "object" | "array" | undefined {
  const known = entityPaths[entity][path];
  if (known !== undefined) return known;
  const t = tokens(path);
  if (t === undefined || t[0] !== "extensions" || !Object.hasOwn(entityPaths[entity], "/extensions")) return undefined;
  const ns = t[1];
  if (ns === undefined || !Object.hasOwn(namespaces, ns)) return undefined;
  if (t.length === 2) return "object";
  const field = t[2] as string;
  if (t.length !== 3 || !FIELD.test(field)) return undefined;
  const schema = namespaces[ns];
  const declared = isRecord(schema) && isRecord(schema["properties"]) && Object.hasOwn(schema["properties"], field);
  return declared || !(isRecord(schema) && schema["additionalProperties"] === false) ? "scalar" : undefined;
}

function checkRequirement(raw: unknown, at: string, namespaces: Readonly<Record<string, unknown>>, c: Collector, ids: Set<string>): ProfileRequirement | undefined {
  if (!isRecord(raw)) {
    c.add("invalid_document", at, "a requirement is an object", `${at}: a requirement is an object with id, entity, when and require`, raw);
    return undefined;
  }
  const before = c.issues.length;
  for (const key of Object.keys(raw)) {
    if (!REQUIREMENT_KEYS.has(key)) c.add("unsupported_keyword", pointer(at, key), `a requirement has only ${[...REQUIREMENT_KEYS].join(", ")}`, `${pointer(at, key)}: ${JSON.stringify(key)} is not a member of a requirement`, key);
  }
  const id = raw["id"];
  if (typeof id !== "string" || !PROFILE_ID.test(id)) c.add("invalid_document", pointer(at, "id"), `id matches ${PROFILE_ID.source}`, `${pointer(at, "id")}: a requirement has an id such as "shift-code-at-1710"`, id);
  else if (ids.has(id)) c.add("invalid_document", pointer(at, "id"), "requirement ids are unique", `${pointer(at, "id")}: ${preview(id)} names another requirement too`, id);
  else ids.add(id);
  const entity = raw["entity"];
  if (typeof entity !== "string" || !(entityNames as readonly string[]).includes(entity)) {
    c.add("breaks_contract", pointer(at, "entity"), `one of ${entityNames.join(", ")}`, `${pointer(at, "entity")}: ${preview(entity)} is not an entity of the global contract`, entity);
    return undefined;
  }
  const name = entity as EntityName;
  const when = raw["when"] ?? {};
  if (!isRecord(when)) c.add("invalid_document", pointer(at, "when"), "when maps JSON Pointers to values", `${pointer(at, "when")}: when maps JSON Pointers to values`, when);
  else {
    for (const [path, expected] of Object.entries(when)) {
      const whereAt = pointer(pointer(at, "when"), path);
      const kind = pathKind(name, path, namespaces);
      if (kind !== "scalar") {
        c.add("breaks_contract", whereAt, `a scalar property of ${name}`, `${whereAt}: ${preview(path)} is not a scalar property of ${name} in the global contract or of a namespace this profile declares`, path);
      }
      const values = Array.isArray(expected) ? expected : [expected];
      if (values.length === 0 || !values.every(isScalar)) c.add("invalid_document", whereAt, "a scalar value or a non-empty list of them", `${whereAt}: the condition is a scalar value or a non-empty list of them`, expected);
    }
  }
  const require = raw["require"];
  if (!Array.isArray(require) || require.length === 0 || !require.every((p) => typeof p === "string")) {
    c.add("invalid_document", pointer(at, "require"), "require lists JSON Pointers", `${pointer(at, "require")}: require is a non-empty list of JSON Pointers`, require);
  } else {
    require.forEach((path, i) => {
      if (pathKind(name, path, namespaces) === undefined) {
        const reqAt = pointer(pointer(at, "require"), i);
        c.add("breaks_contract", reqAt, `a property of ${name}`, `${reqAt}: ${preview(path)} is not a property of ${name} in the global contract (outside arrays) or a field of a namespace this profile declares, so no valid record could have it`, path);
      }
    });
  }
  if (raw["description"] !== undefined && typeof raw["description"] !== "string") c.add("invalid_document", pointer(at, "description"), "description is a string", `${pointer(at, "description")}: description is a string`, raw["description"]);
  return c.issues.length > before ? undefined : (raw as unknown as ProfileRequirement);
}

/**
 * Loads a plant profile: checks the document against the profile dialect and against the global
 * contract, and prepares its checks. A profile can only narrow the contract: anything that could
 * widen it (a non-scalar field, a `$ref`, a combinator) or contradict it (a namespace or field
 * name it forbids, a requirement on a path it does not have, a rule no value meets) is refused.
 *
 * @param document - the profile, as parsed JSON (see `schemas/profile/profile.schema.json`)
 * @returns the profile, to pass as `{ profile }` to any parser and to `parseEvent`, or every problem
 * @example
 * const profile = loadProfile({
 *   id: "plant-1710",
 *   version: "1.0.0",
 *   extensions: { sap: { type: "object", properties: { ZZ1_ShiftModel_ORD: { type: "string", enum: ["1-SHIFT", "2-SHIFT"] } } } },
 *   requirements: [{ id: "shift-model", entity: "WorkOrder", when: { "/site/id": "1710" }, require: ["/extensions/sap/ZZ1_ShiftModel_ORD"] }],
 * });
 */
export function loadProfile(document: unknown): Result<Profile, ProfileError> {
  const c = new Collector();
  if (!isRecord(document)) {
    c.add("invalid_document", "", "a profile is a JSON object", "a profile is a JSON object with id, version, extensions and requirements", document);
    return err(profileError(c.issues));
  }
  for (const key of Object.keys(document)) {
    if (!DOCUMENT_KEYS.has(key)) c.add("unsupported_keyword", pointer("", key), `a profile has only ${[...DOCUMENT_KEYS].join(", ")}`, `${pointer("", key)}: ${JSON.stringify(key)} is not a member of a profile`, key);
  }
  const id = document["id"];
  if (typeof id !== "string" || !PROFILE_ID.test(id)) c.add("invalid_document", "/id", `id matches ${PROFILE_ID.source}`, `/id: a profile has an id such as "plant-1710"`, id);
  const version = document["version"];
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) c.add("invalid_document", "/version", "version is MAJOR.MINOR.PATCH", `/version: a profile has a version such as "1.0.0"`, version);
  if (document["description"] !== undefined && typeof document["description"] !== "string") c.add("invalid_document", "/description", "description is a string", "/description: description is a string", document["description"]);
  const rawNamespaces = document["extensions"] ?? {};
  const namespaces = new Map<string, CompiledNamespace>();
  if (!isRecord(rawNamespaces)) {
    c.add("invalid_document", "/extensions", "extensions maps namespace names to schemas", "/extensions: extensions maps namespace names to object schemas", rawNamespaces);
  } else {
    const names = Object.keys(rawNamespaces);
    if (names.length > MAX_NAMESPACES) c.add("breaks_contract", "/extensions", `at most ${MAX_NAMESPACES} namespaces`, `/extensions: the global contract allows at most ${MAX_NAMESPACES} namespaces`, names.length);
    for (const name of names) {
      const ns = compileNamespace(name, rawNamespaces[name], pointer("/extensions", name), c);
      if (ns !== undefined) namespaces.set(name, ns);
    }
  }
  const requirements: ProfileRequirement[] = [];
  const rawRequirements = document["requirements"] ?? [];
  if (!Array.isArray(rawRequirements)) {
    c.add("invalid_document", "/requirements", "requirements is a list", "/requirements: requirements is a list of requirements", rawRequirements);
  } else {
    const ids = new Set<string>();
    rawRequirements.forEach((raw, i) => {
      const r = checkRequirement(raw, pointer("/requirements", i), isRecord(rawNamespaces) ? rawNamespaces : {}, c, ids);
      if (r !== undefined) requirements.push(r);
    });
  }
  if (c.issues.length > 0) return err(profileError(c.issues));
  // Frozen copy: the caller's object can change afterwards without changing what the profile checks.
  const frozen = deepFreeze(structuredClone(document)) as unknown as ProfileDocument;
  const profile: Profile = Object.freeze({ name: `${String(id)}@${String(version)}`, document: frozen });
  compiled.set(profile, { name: profile.name, namespaces, requirements: frozen.requirements ?? [] });
  return ok(profile);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function profileError(issues: readonly ProfileIssue[]): ProfileError {
  const shown = issues.slice(0, 3).map((i) => i.message);
  const more = issues.length > shown.length ? ` (+${issues.length - shown.length} more)` : "";
  return { code: "invalid_profile", message: `the profile is invalid: ${shown.join("; ")}${more}`, issues };
}
