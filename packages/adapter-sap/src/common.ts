import { issue } from "@millwright/adapter-kit";
import type { Extensions, Quantity, SourceRef } from "@millwright/model";
import type { SapAdapterConfig } from "./config.js";
import { parseSapDate, toRevisionDigits } from "./edm-time.js";
import type { SapWireIssue } from "./errors.js";
import { readNavigation, type ODataRecord } from "./odata-envelope.js";

const EXT_KEY = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const CUSTOMER = /^(ZZ1_|YY1_)/;
const REC20 = /^[A-Z0-9]{2,3}$/;

/** The unit properties of one quantity, as SAP sends them. */
export interface UnitFields {
  /** The ISO companion, e.g. `ProductionUnitISOCode`. */
  readonly iso: string | undefined;
  /** The internal unit without conversion, e.g. `ProductionUnitSAPCode`, where the entity has one. */
  readonly internal?: string | undefined;
  /** The unit property itself, e.g. `ProductionUnit`: converted to the logon language's external form. */
  readonly unit: string | undefined;
}

/**
 * Resolve a SAP unit to Rec 20: the ISO companion when filled (through `isoUnits` where the ISO
 * code is not a current Rec 20 code); else the internal code (`…SAPCode`, "No Conversion" in the
 * EDMX) through the unit table; else the unit property through the unit table. The unit property
 * comes last because Gateway writes it in the logon language's external form (ST is PC in English).
 */
export function resolveUnit(config: SapAdapterConfig, fields: UnitFields, path: string, issues: SapWireIssue[]): string | undefined {
  return resolveUnitAt(config, fields.iso, fields.internal, fields.unit, path, "", issues);
}

/** What gives the pointer of a property of a record (a field reader). */
export interface PointerSource {
  at(name: string): string;
}

/** `base/name` (`base` alone when `name` is empty); a reader gives its record's property pointer. */
function pointer(base: string | PointerSource, name: string): string {
  if (typeof base !== "string") return base.at(name);
  return name === "" ? base : `${base}/${name}`;
}

/**
 * {@link resolveUnit} with the unit fields as arguments and the issue's path as `base` + `/` +
 * `name` (or `base` alone when `name` is empty; or the reader `base`'s pointer of `name`), built
 * only when there is an issue: the mappers call it for every row, where the fields object and the
 * path string would be garbage.
 */
export function resolveUnitAt(
  config: SapAdapterConfig,
  iso: string | undefined,
  internal: string | undefined,
  unit: string | undefined,
  base: string | PointerSource,
  name: string,
  issues: SapWireIssue[],
): string | undefined {
  if (iso !== undefined) {
    const mapped = config.isoUnits[iso] ?? iso;
    if (REC20.test(mapped)) return mapped;
  }
  const internalMapped = internal === undefined ? undefined : config.units[internal];
  if (internalMapped !== undefined) return internalMapped;
  const sap = unit ?? internal;
  if (sap !== undefined) {
    const mapped = config.units[sap];
    if (mapped !== undefined) return mapped;
    issues.push(issue("unknown_unit", pointer(base, name), sap, "SAP unit not in the configured unit table and no ISO code sent"));
    return undefined;
  }
  issues.push(issue("missing_property", pointer(base, name), undefined, "a unit is required for this quantity"));
  return undefined;
}

/** One row of an expanded navigation and its JSON pointer in the payload. */
export interface NavigationRow {
  readonly row: ODataRecord;
  readonly path: string;
}

/**
 * A row of `{"results": […]}` whose pointer, `${base}/${index}`, is written only when asked for (an
 * issue names it): a page has thousands of rows and almost never an issue.
 */
export class ResultsRow implements NavigationRow {
  constructor(
    readonly row: ODataRecord,
    /** The pointer of the navigation's `results` array. */
    readonly base: string,
    readonly index: number,
  ) {}

  get path(): string {
    return `${this.base}/${this.index}`;
  }
}

/**
 * The rows of an expanded to-many navigation, each with the pointer where it is in the payload.
 * A malformed value is an `invalid_wire_value` issue at its own path; a server-paged list
 * (`__next`) is an `incomplete_navigation` issue, so a partial list is never mapped; a navigation
 * that was not expanded is a `missing_property` issue when `required`, else no rows.
 */
export function expandedRows(record: ODataRecord, name: string, path: string, issues: SapWireIssue[], required: boolean): readonly NavigationRow[] | undefined {
  const at = `${path}/${name}`;
  const fast = expandedResults(record, name, at);
  if (fast !== undefined) return fast;
  const nav = readNavigation(record, name);
  switch (nav.kind) {
    case "expanded":
      return nav.rows.map((row, i) => ({ row, path: `${at}${nav.rowPaths[i] ?? ""}` }));
    case "incomplete":
      issues.push(issue("incomplete_navigation", `${at}/__next`, nav.next, `the server paged $expand=${name}: read the rest from __next before mapping; a partial list is not mapped`));
      return undefined;
    case "invalid":
      issues.push(issue("invalid_wire_value", `${at}${nav.path}`, nav.value, nav.rule));
      return undefined;
    case "null":
      issues.push(issue("invalid_wire_value", at, null, `${name} is a to-many navigation: expanded it is {"results": […]}`));
      return undefined;
    default:
      if (required) issues.push(issue("missing_property", at, undefined, `$expand=${name} is required`));
      return undefined;
  }
}

/**
 * The common case of {@link readNavigation}, read in one pass: `{"results": [entity, …]}` without
 * `__next` or `__deferred`, as the rows with their pointers. Undefined for every other form (the
 * caller then asks readNavigation, which decides and reports them). Saves the intermediate rows
 * and pointer arrays for every navigation of every entity of a page.
 */
function expandedResults(record: ODataRecord, name: string, at: string): NavigationRow[] | undefined {
  if (!Object.prototype.hasOwnProperty.call(record, name)) return undefined;
  const value = record[name];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const nav = value as Record<string, unknown>;
  if ("__deferred" in nav || !("results" in nav)) return undefined;
  const results = nav["results"];
  const next = nav["__next"];
  if (!Array.isArray(results) || (next !== undefined && next !== null)) return undefined;
  const rows: NavigationRow[] = [];
  const base = `${at}/results`;
  for (let i = 0; i < results.length; i++) {
    const row: unknown = results[i];
    if (typeof row !== "object" || row === null || Array.isArray(row)) return undefined;
    rows.push(new ResultsRow(row as ODataRecord, base, i));
  }
  return rows;
}

/**
 * The entity of an expanded to-one navigation with its pointer; `undefined` when it was not
 * expanded or is `null` (no related entity). A malformed or paged value is an issue at its path.
 */
export function expandedEntity(record: ODataRecord, name: string, path: string, issues: SapWireIssue[]): NavigationRow | undefined {
  const at = `${path}/${name}`;
  const nav = readNavigation(record, name);
  switch (nav.kind) {
    case "expanded": {
      if (nav.rows.length > 1) {
        issues.push(issue("invalid_wire_value", `${at}${nav.rowPaths[1] ?? ""}`, nav.rows[1], `${name} is a to-one navigation: it holds one entity`));
        return undefined;
      }
      const row = nav.rows[0];
      return row === undefined ? undefined : { row, path: `${at}${nav.rowPaths[0] ?? ""}` };
    }
    case "incomplete":
      issues.push(issue("incomplete_navigation", `${at}/__next`, nav.next, `${name} is a to-one navigation: it is not paged`));
      return undefined;
    case "invalid":
      issues.push(issue("invalid_wire_value", `${at}${nav.path}`, nav.value, nav.rule));
      return undefined;
    default:
      return undefined;
  }
}

/** A quantity when both parts are known. */
export function quantity(value: string | undefined, unit: string | undefined): Quantity | undefined {
  return value === undefined || unit === undefined ? undefined : { value, unit };
}

/** A SourceRef whose key lists `Name=value` pairs in key order. */
export function sourceRef(config: SapAdapterConfig, kind: string, key: readonly (readonly [string, string])[]): SourceRef {
  return { system: config.system, kind, key: key.map(([k, v]) => `${k}=${v}`).join(",") };
}

/**
 * Copy customer fields (`ZZ1_*`, `YY1_*`), documented properties and configured properties
 * into `extensions[namespace]`, when extensions are configured. Only scalar values are copied.
 */
export function collectExtensions(
  config: SapAdapterConfig,
  record: ODataRecord,
  documented: readonly string[],
): Extensions | undefined {
  const ext = config.extensions;
  if (ext === undefined) return undefined;
  const wanted = new Set([...documented, ...(ext.properties ?? [])]);
  const out: Record<string, string | number | boolean | null> = {};
  let n = 0;
  for (const key of Object.keys(record).sort()) {
    if (n >= 64) break;
    if (!(CUSTOMER.test(key) || wanted.has(key)) || !EXT_KEY.test(key)) continue;
    const v = record[key];
    if (v === undefined || v === "") continue;
    if (typeof v === "string") {
      if (v.length > 4096) continue;
      out[key] = v;
    } else if (typeof v === "number" ? Number.isFinite(v) : typeof v === "boolean" || v === null) {
      out[key] = v as number | boolean | null;
    } else continue;
    n += 1;
  }
  return n === 0 ? undefined : { [ext.namespace]: out };
}

/** Set a key only when the value is defined (exactOptionalPropertyTypes-friendly). */
export function defined<TKey extends string, TValue>(key: TKey, value: TValue | undefined): { [K in TKey]?: TValue } {
  return (value === undefined ? {} : { [key]: value }) as { [K in TKey]?: TValue };
}

/**
 * Read a change stamp whose Edm type differs by release: `/Date(ms)/` (DateTimeOffset) or
 * `YYYYMMDDhhmmss` digits (String 14). Gives UTC revision digits.
 */
export function revisionOf(record: ODataRecord, name: string, path: string, issues: SapWireIssue[]): string | undefined {
  const v = record[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string" && /^\d{14}$/.test(v)) return v;
  const ms = parseSapDate(v);
  if (ms !== undefined) return toRevisionDigits(ms);
  issues.push(issue("invalid_wire_value", `${path}/${name}`, v, "a change stamp is /Date(ms)/ or YYYYMMDDhhmmss"));
  return undefined;
}

/** Revision digits without leading zeros; `"0"` when there is no stamp. */
export function normaliseRevision(digits: string | undefined): string {
  const stripped = (digits ?? "").replace(/^0+/, "");
  return stripped === "" ? "0" : stripped;
}

