import { issue, type Issue } from "@millwright/adapter-kit";
import { parseEdmTime, parseSapDate } from "./edm-time.js";
import type { EdmxEntityType, EdmxFunctionImport, EdmxModel, EdmxProperty } from "./edmx.js";

/** One way a request body breaks the service's metadata: the kit's issue, its path a JSON Pointer into the body and its rule from the metadata (e.g. `Edm.String MaxLength 12`). */
export type EdmxIssue = Issue<
  | "unknown_entity_set"
  | "unknown_property"
  | "invalid_type"
  | "too_long"
  | "invalid_decimal"
  | "unknown_function_import"
  | "unknown_parameter"
  | "missing_parameter"
  | "invalid_method"
>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  "Edm.Byte": [0, 255],
  "Edm.SByte": [-128, 127],
  "Edm.Int16": [-32768, 32767],
  "Edm.Int32": [-2147483648, 2147483647],
};

function checkDecimal(p: EdmxProperty, value: unknown, path: string): EdmxIssue | undefined {
  const rule = `Edm.Decimal Precision ${p.precision ?? "-"} Scale ${p.scale ?? "-"} as a JSON string`;
  if (typeof value !== "string") return issue("invalid_type", path, value, rule);
  const m = /^[+-]?(\d+)(?:\.(\d+))?$/.exec(value);
  if (m === null) return issue("invalid_decimal", path, value, rule);
  const int = (m[1] ?? "").replace(/^0+/, "");
  const frac = (m[2] ?? "").replace(/0+$/, "");
  const scale = p.scale ?? 0;
  if (frac.length > scale) return issue("invalid_decimal", path, value, rule);
  if (p.precision !== undefined && int.length > p.precision - scale) return issue("invalid_decimal", path, value, rule);
  return undefined;
}

/**
 * Check one property value against its EDMX declaration (type, MaxLength, Precision/Scale).
 *
 * @param p - the property's metadata
 * @param value - the JSON value to write
 * @param path - JSON pointer of the value, for the issue
 * @returns the issue, or undefined when the value fits
 * @example
 * ```ts
 * checkProperty({ name: "OrderID", type: "Edm.String", nullable: false, maxLength: 12 }, "1000123", "/OrderID"); // undefined
 * ```
 */
function checkProperty(p: EdmxProperty, value: unknown, path: string): EdmxIssue | undefined {
  if (value === null) return p.nullable ? undefined : issue("invalid_type", path, value, `${p.type} is not nullable`);
  switch (p.type) {
    case "Edm.String":
      if (typeof value !== "string") return issue("invalid_type", path, value, "Edm.String is a JSON string");
      if (p.maxLength !== undefined && [...value].length > p.maxLength) return issue("too_long", path, value, `Edm.String MaxLength ${p.maxLength}`);
      return undefined;
    case "Edm.Decimal":
      return checkDecimal(p, value, path);
    case "Edm.Boolean":
      return typeof value === "boolean" ? undefined : issue("invalid_type", path, value, "Edm.Boolean is true or false");
    case "Edm.Guid":
      return typeof value === "string" && GUID.test(value) ? undefined : issue("invalid_type", path, value, "Edm.Guid is a UUID string");
    case "Edm.DateTime":
    case "Edm.DateTimeOffset":
      return parseSapDate(value) !== undefined ? undefined : issue("invalid_type", path, value, `${p.type} is /Date(ms)/`);
    case "Edm.Time":
      return parseEdmTime(value) !== undefined ? undefined : issue("invalid_type", path, value, "Edm.Time is PThhHmmMssS");
    case "Edm.Double":
    case "Edm.Single":
      return typeof value === "number" || (typeof value === "string" && Number.isFinite(Number(value))) ? undefined : issue("invalid_type", path, value, `${p.type} is a number`);
    case "Edm.Int64":
      return typeof value === "string" && /^-?\d{1,19}$/.test(value) ? undefined : issue("invalid_type", path, value, "Edm.Int64 is a JSON string of digits");
    default: {
      const range = INT_RANGES[p.type];
      if (range === undefined) return undefined;
      return typeof value === "number" && Number.isInteger(value) && value >= range[0] && value <= range[1]
        ? undefined
        : issue("invalid_type", path, value, `${p.type} is an integer in [${range[0]}, ${range[1]}]`);
    }
  }
}

function checkEntity(model: EdmxModel, type: EdmxEntityType, body: unknown, path: string, out: EdmxIssue[]): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    out.push(issue("invalid_type", path, body, `an ${type.name} entity is a JSON object`));
    return;
  }
  for (const [name, value] of Object.entries(body)) {
    const at = `${path}/${name}`;
    if (name === "__metadata") continue;
    const prop = type.properties[name];
    if (prop !== undefined) {
      const found = checkProperty(prop, value, at);
      if (found !== undefined) out.push(found);
      continue;
    }
    const nav = type.navigations[name];
    const target = nav === undefined ? undefined : model.entityTypes[nav.toType];
    if (nav === undefined || target === undefined) {
      out.push(issue("unknown_property", at, value, `${type.name} has no property ${name}`));
      continue;
    }
    const rows = nav.many
      ? typeof value === "object" && value !== null && Array.isArray((value as { results?: unknown }).results)
        ? ((value as { results: unknown[] }).results)
        : Array.isArray(value) ? value : undefined
      : [value];
    if (rows === undefined) {
      out.push(issue("invalid_type", at, value, `deep insert of ${name} is {"results": […]}`));
      continue;
    }
    const base = Array.isArray(value) ? at : nav.many ? `${at}/results` : at;
    rows.forEach((row, i) => checkEntity(model, target, row, nav.many ? `${base}/${i}` : base, out));
  }
}

/**
 * Check a create body (with deep-inserted navigations) against a service's EDMX: every property
 * exists on the entity type, with a compatible Edm type, within MaxLength and Precision/Scale.
 *
 * @param model - the service's parsed EDMX
 * @param entitySet - the entity set posted to, e.g. `A_MaterialDocumentHeader`
 * @param body - the JSON body
 * @returns every issue found (empty when the body fits)
 * @example
 * ```ts
 * const issues = checkAgainstEdmx(model, "ProdnOrdConf2", body);
 * ```
 */
export function checkAgainstEdmx(model: EdmxModel, entitySet: string, body: unknown): readonly EdmxIssue[] {
  const set = model.entitySets[entitySet];
  const type = set === undefined ? undefined : model.entityTypes[set.entityType];
  if (type === undefined) return [issue("unknown_entity_set", "", entitySet, "entity set in the service metadata")];
  const out: EdmxIssue[] = [];
  checkEntity(model, type, body, "", out);
  return out;
}

/** A function import call as the builders describe it: method, name, parameters as URI literals. */
export interface FunctionImportCall {
  readonly method: string;
  readonly functionImport: string;
  readonly parameters: Readonly<Record<string, string>>;
}

const LITERALS: Readonly<Record<string, RegExp>> = {
  "Edm.String": /^'((?:[^']|'')*)'$/s,
  "Edm.DateTime": /^datetime'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)'$/,
  "Edm.DateTimeOffset": /^datetimeoffset'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))'$/,
  "Edm.Guid": /^guid'([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})'$/,
  "Edm.Boolean": /^(true|false)$/,
  "Edm.Decimal": /^([+-]?\d+(?:\.\d+)?)[mM]$/,
};

/**
 * Read an OData V2 URI literal of a function import parameter as the JSON wire value of its type:
 * `'4900000123'` → `"4900000123"`, `datetime'2026-03-04T00:00:00'` → `"/Date(1772582400000)/"`,
 * `guid'…'` → the GUID string, `true` → `true`, `12.5m` → `"12.5"`.
 *
 * @param p - the parameter's metadata
 * @param literal - the URI literal (percent-decoded)
 * @returns the wire value, or undefined when the literal is not of the parameter's type
 * @example
 * ```ts
 * parseUriLiteral({ name: "MaterialDocumentYear", type: "Edm.String", nullable: true, maxLength: 4 }, "'2026'"); // "2026"
 * ```
 */
export function parseUriLiteral(p: EdmxProperty, literal: string): unknown {
  if (literal === "null") return null;
  const m = LITERALS[p.type]?.exec(literal);
  if (m === null || m === undefined) return undefined;
  const text = m[1] ?? "";
  switch (p.type) {
    case "Edm.String":
      return text.replace(/''/g, "'");
    case "Edm.DateTime":
    case "Edm.DateTimeOffset": {
      const ms = Date.parse(p.type === "Edm.DateTime" ? `${text}Z` : text);
      return Number.isNaN(ms) ? undefined : `/Date(${ms})/`;
    }
    case "Edm.Boolean":
      return text === "true";
    default:
      return text;
  }
}

/**
 * Check a function import call against a service's EDMX: the function exists, the HTTP method is
 * its `m:HttpMethod`, every parameter is declared, each literal has the parameter's type and
 * MaxLength, and every non-nullable parameter is given.
 *
 * @param model - the service's parsed EDMX
 * @param call - method, function import name and parameters as URI literals
 * @returns every issue found (empty when the call fits); paths are `/parameters/<name>`
 * @example
 * ```ts
 * const issues = checkFunctionImport(model, buildMaterialDocumentCancel(reversal)._unsafeUnwrap());
 * ```
 */
export function checkFunctionImport(model: EdmxModel, call: FunctionImportCall): readonly EdmxIssue[] {
  const fn: EdmxFunctionImport | undefined = Object.hasOwn(model.functionImports, call.functionImport) ? model.functionImports[call.functionImport] : undefined;
  if (fn === undefined) return [issue("unknown_function_import", "/functionImport", call.functionImport, "function import in the service metadata")];
  const out: EdmxIssue[] = [];
  if (fn.httpMethod !== undefined && fn.httpMethod !== call.method) out.push(issue("invalid_method", "/method", call.method, `${fn.name} is called with ${fn.httpMethod}`));
  const declared = new Map(fn.parameters.map((p) => [p.name, p]));
  for (const [name, literal] of Object.entries(call.parameters)) {
    const at = `/parameters/${name}`;
    const p = declared.get(name);
    if (p === undefined) {
      out.push(issue("unknown_parameter", at, literal, `${fn.name} has no parameter ${name}`));
      continue;
    }
    const value = parseUriLiteral(p, literal);
    if (value === undefined) out.push(issue("invalid_type", at, literal, `a URI literal of ${p.type}`));
    else {
      const found = checkProperty(p, value, at);
      if (found !== undefined) out.push(found);
    }
  }
  for (const p of fn.parameters) {
    if (!p.nullable && !Object.hasOwn(call.parameters, p.name)) out.push(issue("missing_parameter", `/parameters/${p.name}`, undefined, `${fn.name} requires ${p.name} (${p.type}, not nullable)`));
  }
  return out;
}
