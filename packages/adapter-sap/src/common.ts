import type { Extensions, Quantity, SourceRef } from "@millwright/model";
import type { SapAdapterConfig } from "./config.js";
import { wireIssue, type SapWireIssue } from "./errors.js";
import { parseSapDate, toRevisionDigits, type ODataRecord } from "./wire.js";

const EXT_KEY = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const CUSTOMER = /^(ZZ1_|YY1_)/;

/**
 * Resolve a SAP unit to Rec 20: the ISO companion when filled (through `isoUnits` where the ISO
 * code is not a current Rec 20 code), else the SAP unit through the unit table.
 */
export function resolveUnit(
  config: SapAdapterConfig,
  iso: string | undefined,
  sap: string | undefined,
  path: string,
  issues: SapWireIssue[],
): string | undefined {
  if (iso !== undefined) {
    const mapped = config.isoUnits[iso] ?? iso;
    if (/^[A-Z0-9]{2,3}$/.test(mapped)) return mapped;
  }
  if (sap !== undefined) {
    const mapped = config.units[sap];
    if (mapped !== undefined) return mapped;
    issues.push(wireIssue("unknown_unit", path, sap, "SAP unit not in the configured unit table and no ISO code sent"));
    return undefined;
  }
  issues.push(wireIssue("missing_property", path, undefined, "a unit is required for this quantity"));
  return undefined;
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
  issues.push(wireIssue("invalid_wire_value", `${path}/${name}`, v, "a change stamp is /Date(ms)/ or YYYYMMDDhhmmss"));
  return undefined;
}

/** Revision digits without leading zeros; `"0"` when there is no stamp. */
export function normaliseRevision(digits: string | undefined): string {
  const stripped = (digits ?? "").replace(/^0+/, "");
  return stripped === "" ? "0" : stripped;
}

