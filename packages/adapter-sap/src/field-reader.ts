// Scalar wire values (Edm.Decimal, ABAP flags, text) and the field reader that turns the properties
// of one entity into canonical values, collecting an issue for every value of the wrong form.
import { parseEdmTime, parseSapDate, toCalendarDate } from "./edm-time.js";
import { wireIssue, type SapWireIssue } from "./errors.js";
import type { ODataRecord } from "./odata-envelope.js";
import { composeTimestamp } from "./time-zone.js";

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
