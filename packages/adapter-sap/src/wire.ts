import { err, ok, type Result } from "neverthrow";
import { wireIssue, type SapWireIssue } from "./errors.js";

/** One OData V2 entity as JSON: property names to wire values. */
export type ODataRecord = Readonly<Record<string, unknown>>;

/** A page of an OData V2 collection: its rows, and the server's `__next` link and `__count` when sent. */
export interface ODataPage {
  readonly results: readonly ODataRecord[];
  readonly next?: string;
  readonly count?: number;
}

function isRecord(value: unknown): value is ODataRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Take the entity out of an OData V2 single-entity response `{"d": {…}}`.
 *
 * @param payload - the parsed JSON body
 * @returns the entity, or `invalid_envelope` when the body is not a V2 entity envelope
 * @example
 * ```ts
 * unwrapEntity({ d: { ManufacturingOrder: "1000123" } }); // ok({ ManufacturingOrder: "1000123" })
 * ```
 */
export function unwrapEntity(payload: unknown): Result<ODataRecord, SapWireIssue> {
  if (!isRecord(payload) || !isRecord(payload["d"])) {
    return err(wireIssue("invalid_envelope", "/d", isRecord(payload) ? payload["d"] : payload, 'an OData V2 entity response is {"d": {…}}'));
  }
  const d = payload["d"];
  if (Array.isArray(d["results"])) {
    return err(wireIssue("invalid_envelope", "/d/results", "[…]", "expected one entity, got a collection"));
  }
  return ok(d);
}

/**
 * Take the rows, `__next` and `__count` out of an OData V2 collection response
 * `{"d": {"results": […], "__next": "…"}}` (the V1-style `{"d": […]}` is accepted too).
 *
 * @param payload - the parsed JSON body
 * @returns the page, or `invalid_envelope`
 * @example
 * ```ts
 * unwrapCollection({ d: { results: [], __next: "A_ProductionOrder_2?$skiptoken=100" } });
 * ```
 */
export function unwrapCollection(payload: unknown): Result<ODataPage, SapWireIssue> {
  if (!isRecord(payload)) return err(wireIssue("invalid_envelope", "", payload, 'an OData V2 collection response is {"d": {"results": […]}}'));
  const d = payload["d"];
  if (Array.isArray(d)) return toPage(d, undefined, undefined, "/d");
  if (!isRecord(d) || !Array.isArray(d["results"])) {
    return err(wireIssue("invalid_envelope", "/d/results", isRecord(d) ? d["results"] : d, 'an OData V2 collection response is {"d": {"results": […]}}'));
  }
  return toPage(d["results"], d["__next"], d["__count"], "/d/results");
}

function toPage(rows: readonly unknown[], next: unknown, count: unknown, path: string): Result<ODataPage, SapWireIssue> {
  const bad = rows.findIndex((r) => !isRecord(r));
  if (bad >= 0) return err(wireIssue("invalid_envelope", `${path}/${bad}`, rows[bad], "each row of a collection is an entity object"));
  const n = typeof count === "string" && /^\d+$/.test(count) ? Number(count) : typeof count === "number" ? count : undefined;
  return ok({
    results: rows as readonly ODataRecord[],
    ...(typeof next === "string" && next !== "" ? { next } : {}),
    ...(n === undefined ? {} : { count: n }),
  });
}

/**
 * What a navigation property of an entity holds. Every path is a JSON Pointer relative to the
 * navigation property, so `${entityPath}/${name}${path}` names a location that exists in the input.
 */
export type Navigation =
  /** Expanded rows (`{"results": […]}`, a bare array, or one inline entity) with each row's pointer. */
  | { readonly kind: "expanded"; readonly rows: readonly ODataRecord[]; readonly rowPaths: readonly string[] }
  /** Expanded rows the server paged: `__next` links to the rest, so `rows` is only part of the navigation. */
  | { readonly kind: "incomplete"; readonly rows: readonly ODataRecord[]; readonly rowPaths: readonly string[]; readonly next: string }
  /** Not expanded: `{"__deferred": {"uri": …}}`. */
  | { readonly kind: "deferred"; readonly uri: string }
  /** `null`: an expanded to-one navigation without a related entity (not a form of a to-many navigation). */
  | { readonly kind: "null" }
  /** The property is not in the entity. */
  | { readonly kind: "absent" }
  /** A value in none of these forms: where (`path`), what (`value`) and the rule it breaks. */
  | { readonly kind: "invalid"; readonly path: string; readonly value: unknown; readonly rule: string };

const NAVIGATION_FORMS = 'an OData V2 navigation is {"results": […]}, an entity object, null or {"__deferred": {"uri": …}}';

/** The rows of an expanded collection with their pointers, or the first element that is not an entity. */
function rowsOf(values: readonly unknown[], base: string): { rows: ODataRecord[]; rowPaths: string[] } | Navigation {
  const rows: ODataRecord[] = [];
  const rowPaths: string[] = [];
  for (const [i, row] of values.entries()) {
    if (!isRecord(row)) return { kind: "invalid", path: `${base}/${i}`, value: row, rule: "each row of an expanded navigation is an entity object" };
    rows.push(row);
    rowPaths.push(`${base}/${i}`);
  }
  return { rows, rowPaths };
}

/**
 * Read a navigation property: expanded `{"results": […]}` (or a bare array, or a single expanded
 * entity), server-paged (`__next` beside the rows), `{"__deferred": {"uri": …}}` when it was not
 * expanded, `null`, absent, or invalid. Rows are never dropped: a row that is not an entity makes
 * the navigation invalid, at that row's path.
 *
 * @param record - the entity
 * @param name - the navigation property, e.g. `to_ProductionOrderOperation`
 * @returns the navigation's content
 * @example
 * ```ts
 * readNavigation({ to_ProductionOrderOperation: { results: [] } }, "to_ProductionOrderOperation"); // expanded, no rows
 * ```
 */
export function readNavigation(record: ODataRecord, name: string): Navigation {
  if (!Object.prototype.hasOwnProperty.call(record, name)) return { kind: "absent" };
  const value = record[name];
  if (value === undefined) return { kind: "absent" };
  if (value === null) return { kind: "null" };
  if (Array.isArray(value)) {
    const read = rowsOf(value, "");
    return "kind" in read ? read : { kind: "expanded", ...read };
  }
  if (!isRecord(value)) return { kind: "invalid", path: "", value, rule: NAVIGATION_FORMS };
  if ("__deferred" in value) {
    const deferred = value["__deferred"];
    return isRecord(deferred) && typeof deferred["uri"] === "string"
      ? { kind: "deferred", uri: deferred["uri"] }
      : { kind: "invalid", path: "/__deferred", value: deferred, rule: 'a deferred navigation is {"__deferred": {"uri": "…"}}' };
  }
  if ("results" in value) {
    const results = value["results"];
    if (!Array.isArray(results)) return { kind: "invalid", path: "/results", value: results, rule: 'an expanded to-many navigation is {"results": […]}; SAP sends [] when there are no rows' };
    const read = rowsOf(results, "/results");
    if ("kind" in read) return read;
    const next = value["__next"];
    if (next === undefined || next === null) return { kind: "expanded", ...read };
    if (typeof next === "string" && next !== "") return { kind: "incomplete", ...read, next };
    return { kind: "invalid", path: "/__next", value: next, rule: "__next is the link to the next page of rows" };
  }
  if (!Object.keys(value).some((k) => !k.startsWith("__"))) return { kind: "invalid", path: "", value, rule: NAVIGATION_FORMS };
  return { kind: "expanded", rows: [value], rowPaths: [""] };
}

/**
 * Drop OData bookkeeping (`__metadata`, `__deferred` navigation stubs) from an entity.
 *
 * @param record - the entity as received
 * @returns the entity's plain properties
 * @example
 * ```ts
 * stripMetadata({ __metadata: { type: "x" }, Material: "FG-4711" }); // { Material: "FG-4711" }
 * ```
 */
export function stripMetadata(record: ODataRecord): ODataRecord {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith("__")) continue;
    if (isRecord(value) && isRecord(value["__deferred"])) continue;
    out[key] = value;
  }
  return out;
}

const SAP_DATE = /^\/Date\((-?\d{1,15})([+-]\d{4})?\)\/$/;

/**
 * Read an `Edm.DateTime` / `Edm.DateTimeOffset` wire value `/Date(ms)/` or `/Date(ms+0000)/` as
 * milliseconds since the epoch (the number is UTC; the suffix is the offset in minutes for display).
 *
 * @param value - the wire value
 * @returns the instant in ms, or undefined when the value is not in that form
 * @example
 * ```ts
 * parseSapDate("/Date(1492041600000)/"); // 1492041600000
 * ```
 */
export function parseSapDate(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = SAP_DATE.exec(value);
  if (m === null) return undefined;
  const ms = Number(m[1]);
  return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
}

/**
 * Write milliseconds since the epoch as an OData V2 `/Date(ms)/` value.
 *
 * @param ms - the instant
 * @returns the wire value
 * @example
 * ```ts
 * formatSapDate(Date.UTC(2026, 2, 2)); // "/Date(1772409600000)/"
 * ```
 */
export function formatSapDate(ms: number): string {
  return `/Date(${ms})/`;
}

const SAP_TIME = /^PT(?:(\d{1,2})H)?(?:(\d{1,2})M)?(?:(\d{1,2})(?:\.\d+)?S)?$/;

/**
 * Read an `Edm.Time` wire value (`PT12H26M00S`) as seconds after midnight.
 *
 * @param value - the wire value
 * @returns seconds in [0, 86400), or undefined when the value is not a time of day
 * @example
 * ```ts
 * parseEdmTime("PT06H30M00S"); // 23400
 * ```
 */
export function parseEdmTime(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "PT") return undefined;
  if (value.length === 11) {
    // Fast path for SAP's usual fixed form PThhHmmMssS.
    const c = (i: number) => value.charCodeAt(i) - 48;
    if (value.startsWith("PT") && value[4] === "H" && value[7] === "M" && value[10] === "S") {
      const h = c(2) * 10 + c(3);
      const m = c(5) * 10 + c(6);
      const sec = c(8) * 10 + c(9);
      const digits = [2, 3, 5, 6, 8, 9].every((i) => c(i) >= 0 && c(i) <= 9);
      if (digits) return h > 23 || m > 59 || sec > 59 ? undefined : h * 3600 + m * 60 + sec;
    }
  }
  const m = SAP_TIME.exec(value);
  if (m === null) return undefined;
  const h = Number(m[1] ?? 0);
  const min = Number(m[2] ?? 0);
  const s = Number(m[3] ?? 0);
  if (h > 23 || min > 59 || s > 59) return undefined;
  return h * 3600 + min * 60 + s;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * Write seconds after midnight as an `Edm.Time` wire value.
 *
 * @param seconds - seconds in [0, 86400)
 * @returns `PThhHmmMssS`
 * @example
 * ```ts
 * formatEdmTime(23400); // "PT06H30M00S"
 * ```
 */
export function formatEdmTime(seconds: number): string {
  const s = Math.max(0, Math.min(86_399, Math.floor(seconds)));
  return `PT${pad(Math.floor(s / 3600))}H${pad(Math.floor((s % 3600) / 60))}M${pad(s % 60)}S`;
}

/**
 * The UTC calendar date of a `/Date(ms)/` value (SAP sends date-only properties as UTC midnight).
 *
 * @param value - the wire value
 * @returns `YYYY-MM-DD`, or undefined when the value is not a SAP date
 * @example
 * ```ts
 * toCalendarDate("/Date(1772409600000)/"); // "2026-03-02"
 * ```
 */
export function toCalendarDate(value: unknown): string | undefined {
  const ms = parseSapDate(value);
  if (ms === undefined) return undefined;
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const BUCKET_MS = 15 * 60_000;

/**
 * Whether a string names an IANA time zone this runtime knows.
 *
 * @param timeZone - e.g. `Europe/Berlin`
 * @returns true when Intl accepts it
 * @example
 * ```ts
 * isTimeZone("Europe/Berlin"); // true
 * ```
 */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of a time zone at an instant, in minutes east of UTC; cached per 15 minutes (no zone changes offset more often). */
function offsetMinutes(timeZone: string, utcMs: number): number {
  let cache = offsetCache.get(timeZone);
  if (cache === undefined) {
    cache = new Map();
    offsetCache.set(timeZone, cache);
  }
  const bucket = Math.floor(utcMs / BUCKET_MS);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const at = bucket * BUCKET_MS;
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  const local0 = new Date(local);
  local0.setUTCFullYear(get("year"));
  const minutes = Math.round((local0.getTime() - at) / 60_000);
  if (cache.size > 100_000) cache.clear();
  cache.set(bucket, minutes);
  return minutes;
}

/**
 * Write an instant as RFC 3339 with the offset of the given time zone.
 *
 * @param utcMs - the instant
 * @param timeZone - IANA time zone
 * @returns e.g. `2026-03-02T06:12:40+01:00`
 * @example
 * ```ts
 * formatTimestamp(Date.UTC(2026, 2, 2, 5, 12, 40), "Europe/Berlin"); // "2026-03-02T06:12:40+01:00"
 * ```
 */
export function formatTimestamp(utcMs: number, timeZone: string): string {
  const offset = offsetMinutes(timeZone, utcMs);
  const d = new Date(utcMs + offset * 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const zone = offset === 0 && timeZone === "UTC" ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${zone}`;
}

/**
 * The instant of a plant-local wall-clock time (date + seconds after midnight) in a time zone.
 * In a DST gap the earlier offset is used; in an overlap the first occurrence.
 *
 * @param localMs - the wall-clock time written as if it were UTC
 * @param timeZone - IANA time zone of the plant
 * @returns the instant in ms
 * @example
 * ```ts
 * localToUtc(Date.UTC(2026, 2, 2, 6, 0, 0), "Europe/Berlin"); // Date.UTC(2026, 2, 2, 5, 0, 0)
 * ```
 */
export function localToUtc(localMs: number, timeZone: string): number {
  const before = offsetMinutes(timeZone, localMs - 43_200_000);
  const after = offsetMinutes(timeZone, localMs + 43_200_000);
  const early = localMs - before * 60_000;
  if (before === after) return early;
  const late = localMs - after * 60_000;
  const earlyValid = offsetMinutes(timeZone, early) === before;
  const lateValid = offsetMinutes(timeZone, late) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (earlyValid) return early;
  if (lateValid) return late;
  return early;
}

/**
 * Combine a SAP date property (`/Date(ms)/`, UTC midnight) and an `Edm.Time` property into a
 * timestamp, reading the wall-clock time in the plant's time zone.
 *
 * @param date - the date wire value
 * @param time - the Edm.Time wire value (missing time means midnight)
 * @param timeZone - IANA time zone of the plant (configuration)
 * @returns RFC 3339 with offset, or undefined when the date is empty or not a SAP date
 * @example
 * ```ts
 * toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "Europe/Berlin"); // "2026-03-02T06:12:40+01:00"
 * ```
 */
export function toTimestamp(date: unknown, time: unknown, timeZone: string): string | undefined {
  const day = parseSapDate(date);
  if (day === undefined) return undefined;
  const seconds = time === undefined || time === null || time === "" ? 0 : parseEdmTime(time);
  if (seconds === undefined) return undefined;
  return composeTimestamp(day, seconds, timeZone);
}

/** Date ms (UTC midnight) + seconds of plant-local time → RFC 3339 in the zone; undefined outside years 1–9999. */
function composeTimestamp(day: number, seconds: number, timeZone: string): string | undefined {
  const midnight = Math.floor(day / 86_400_000) * 86_400_000;
  const instant = localToUtc(midnight + seconds * 1000, timeZone);
  const year = new Date(instant).getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  return formatTimestamp(instant, timeZone);
}

const DECIMAL = /^([+-])?(\d{1,31})(?:\.(\d{1,15}))?$/;
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d{0,30})(?:\.\d{1,15})?$/;

/**
 * Read an `Edm.Decimal` wire value (a JSON string such as `"500.000"`) as an exact canonical decimal string.
 * Leading zeros are removed and a `+` sign is dropped; the scale is kept as sent.
 *
 * @param value - the wire value
 * @returns the decimal string, or undefined when the value is not a decimal string
 * @example
 * ```ts
 * parseDecimal("0500.000"); // "500.000"
 * ```
 */
export function parseDecimal(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  if (CANONICAL_DECIMAL.test(value)) return value;
  const m = DECIMAL.exec(value.trim());
  if (m === null) return undefined;
  const int = (m[2] ?? "0").replace(/^0+(?=\d)/, "");
  const frac = m[3];
  return `${m[1] === "-" ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}`;
}

/**
 * Read an ABAP flag (`'X'` set, `''` or blank not set) or an `Edm.Boolean`.
 *
 * @param value - the wire value
 * @returns the boolean, or undefined when the value is neither form
 * @example
 * ```ts
 * parseFlag("X"); // true
 * ```
 */
export function parseFlag(value: unknown): boolean | undefined {
  if (value === true || value === "X" || value === "x") return true;
  if (value === false || value === "" || value === " " || value === null || value === undefined) return false;
  return undefined;
}

/**
 * ALPHA input conversion: pad an all-numeric value with leading zeros to the property's MaxLength
 * (SAP's internal form, as BAPIs and IDocs want it). Other values are returned unchanged.
 *
 * @param value - the external value, e.g. `1000123`
 * @param maxLength - the property's MaxLength from the EDMX, e.g. 12
 * @returns the internal value, e.g. `000001000123`
 * @example
 * ```ts
 * alphaToInternal("1000123", 12); // "000001000123"
 * ```
 */
export function alphaToInternal(value: string, maxLength: number): string {
  return /^\d+$/.test(value) && value.length < maxLength ? value.padStart(maxLength, "0") : value;
}

/**
 * ALPHA output conversion: strip the leading zeros of an all-numeric value (one zero is kept
 * when the value is all zeros, so the result is never empty). Other values are returned unchanged.
 *
 * @param value - the internal value, e.g. `000001000123`
 * @returns the external value, e.g. `1000123`
 * @example
 * ```ts
 * alphaToExternal("000001000123"); // "1000123"
 * ```
 */
export function alphaToExternal(value: string): string {
  return /^\d+$/.test(value) ? value.replace(/^0+(?=\d)/, "") : value;
}

/** A plain text wire value: trimmed, empty means absent. */
export function readText(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const t = value.trim();
  return t === "" ? undefined : t;
}

/** Read a required or optional value from a record, collecting an issue for a wrong wire form. */
export interface FieldReader {
  readonly issues: SapWireIssue[];
  text(name: string, required?: boolean): string | undefined;
  decimal(name: string, required?: boolean): string | undefined;
  flag(name: string): boolean;
  date(name: string, required?: boolean): string | undefined;
  timestamp(dateName: string, timeName: string): string | undefined;
  instant(name: string): number | undefined;
}

/**
 * Create a reader over one SAP record that turns wire values into canonical ones and records one
 * issue (with the JSON pointer) for every value of the wrong form.
 *
 * @param record - the entity
 * @param basePath - the record's JSON pointer in the payload
 * @param timeZone - the plant's time zone
 * @param issues - where issues are collected (a new array by default; pass one to share it across rows)
 * @returns the reader
 * @example
 * ```ts
 * const r = createFieldReader({ TotalQuantity: "500" }, "", "Europe/Berlin");
 * r.decimal("TotalQuantity", true); // "500"
 * ```
 */
export function createFieldReader(record: ODataRecord, basePath: string, timeZone: string, issues: SapWireIssue[] = []): FieldReader {
  return new RecordReader(record, basePath, timeZone, issues);
}

/**
 * The reader behind `createFieldReader`. A class rather than a closure object because a reader is
 * created for every operation and component row: shared methods keep that allocation small.
 */
class RecordReader implements FieldReader {
  constructor(
    private readonly record: ODataRecord,
    private readonly basePath: string,
    private readonly timeZone: string,
    readonly issues: SapWireIssue[],
  ) {}

  private at(name: string): string {
    return `${this.basePath}/${name}`;
  }

  private missing(name: string, rule: string): undefined {
    this.issues.push(wireIssue("missing_property", this.at(name), undefined, rule));
    return undefined;
  }

  text(name: string, required = false): string | undefined {
    const v = this.record[name];
    if (typeof v === "string") {
      const t = v.length > 0 && v.charCodeAt(0) > 32 && v.charCodeAt(v.length - 1) > 32 ? v : v.trim();
      if (t !== "") return t;
      return required ? this.missing(name, "required, must not be empty") : undefined;
    }
    if (v !== undefined && v !== null) {
      this.issues.push(wireIssue("invalid_wire_value", this.at(name), v, "Edm.String is a JSON string"));
      return undefined;
    }
    return required ? this.missing(name, "required, must not be empty") : undefined;
  }

  decimal(name: string, required = false): string | undefined {
    const v = this.record[name];
    if (v === undefined || v === null || v === "") return required ? this.missing(name, "required Edm.Decimal") : undefined;
    const d = parseDecimal(v);
    if (d === undefined) this.issues.push(wireIssue("invalid_wire_value", this.at(name), v, 'Edm.Decimal is a JSON string such as "500.000"'));
    return d;
  }

  flag(name: string): boolean {
    const v = this.record[name];
    const f = parseFlag(v);
    if (f === undefined) {
      this.issues.push(wireIssue("invalid_wire_value", this.at(name), v, "a flag is 'X' or '' (or an Edm.Boolean)"));
      return false;
    }
    return f;
  }

  date(name: string, required = false): string | undefined {
    const v = this.record[name];
    if (v === undefined || v === null || v === "") return required ? this.missing(name, "required Edm.DateTime") : undefined;
    const d = toCalendarDate(v);
    if (d === undefined) this.issues.push(wireIssue("invalid_wire_value", this.at(name), v, "Edm.DateTime is /Date(ms)/"));
    return d;
  }

  timestamp(dateName: string, timeName: string): string | undefined {
    const dv = this.record[dateName];
    if (dv === undefined || dv === null || dv === "") return undefined;
    const day = parseSapDate(dv);
    if (day === undefined) {
      this.issues.push(wireIssue("invalid_wire_value", this.at(dateName), dv, "Edm.DateTime is /Date(ms)/"));
      return undefined;
    }
    const tv = this.record[timeName];
    const seconds = tv === undefined || tv === null || tv === "" ? 0 : parseEdmTime(tv);
    if (seconds === undefined) {
      this.issues.push(wireIssue("invalid_wire_value", this.at(timeName), tv, "Edm.Time is PThhHmmMssS"));
      return undefined;
    }
    const ts = composeTimestamp(day, seconds, this.timeZone);
    if (ts === undefined) this.issues.push(wireIssue("invalid_wire_value", this.at(dateName), dv, "date outside years 0001-9999"));
    return ts;
  }

  instant(name: string): number | undefined {
    const v = this.record[name];
    if (v === undefined || v === null || v === "") return undefined;
    const ms = parseSapDate(v);
    if (ms === undefined) this.issues.push(wireIssue("invalid_wire_value", this.at(name), v, "Edm.DateTimeOffset is /Date(ms)/ or /Date(ms+0000)/"));
    return ms;
  }
}

/**
 * Write an instant as a canonical revision: UTC `YYYYMMDDhhmmss` digits.
 *
 * @param ms - the instant
 * @returns the revision digits
 * @example
 * ```ts
 * toRevisionDigits(Date.UTC(2026, 2, 3, 8, 40, 12)); // "20260303084012"
 * ```
 */
export function toRevisionDigits(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
