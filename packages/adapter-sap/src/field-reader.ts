// SAP's wire forms on top of the adapter kit's field reader: ABAP flags, Edm.DateTime dates,
// date + Edm.Time timestamps in the plant's time zone, and Edm.DateTimeOffset instants.
import { composeTimestamp, FieldReader, parseDecimal, type FieldRules } from "@millwright/adapter-kit";
import { parseEdmTime, parseSapDate, toCalendarDate } from "./edm-time.js";
import type { SapWireIssue } from "./errors.js";
import { ResultsRow, type NavigationRow } from "./common.js";
import type { ODataRecord } from "./odata-envelope.js";

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

// The kit's text and decimal rules in OData's words.
const EDM_RULES: FieldRules = {
  text: "Edm.String is a JSON string",
  decimal: 'Edm.Decimal is a JSON string such as "500.000"',
  requiredDecimal: "required Edm.Decimal",
};

/**
 * The field reader over one SAP record: the kit's `text` and `decimal`, plus SAP's flags, dates,
 * timestamps and instants. Every value of the wrong form is one issue at its JSON Pointer.
 */
export class SapFieldReader extends FieldReader<SapWireIssue["code"]> {
  constructor(
    record: ODataRecord,
    basePath: string,
    private readonly timeZone: string,
    issues: SapWireIssue[],
    /** When not -1, the record is row `rowIndex` of the array at `basePath` (its pointer is built only for an issue). */
    private readonly rowIndex = -1,
  ) {
    super(record, basePath, issues);
  }

  /**
   * The JSON Pointer of a property of this record.
   *
   * @param name - the property
   * @returns the pointer
   */
  override at(name: string): string {
    if (this.rowIndex < 0) return super.at(name);
    const key = name.includes("~") || name.includes("/") ? name.replace(/~/g, "~0").replace(/\//g, "~1") : name;
    return `${this.basePath}/${this.rowIndex}/${key}`;
  }

  protected override get rules(): FieldRules {
    return EDM_RULES;
  }

  /**
   * Read an ABAP flag (see {@link parseFlag}); a value of another form is an issue and reads as false.
   *
   * @param name - the property
   * @returns the flag
   */
  flag(name: string): boolean {
    return this.flagOf(this.record[name], name);
  }

  /**
   * {@link flag} of a value the caller has read itself. The mappers read `row["Material"]` with a
   * constant key, which the engine loads through a monomorphic inline cache, where `flag(name)` and
   * `text(name)` load by a variable key (measured about 20 times slower, on every field of every row).
   *
   * @param v - the property's value
   * @param name - the property (for the issue's pointer)
   * @returns the flag
   */
  flagOf(v: unknown, name: string): boolean {
    const f = parseFlag(v);
    if (f === undefined) {
      this.invalid(name, v, "a flag is 'X' or '' (or an Edm.Boolean)");
      return false;
    }
    return f;
  }

  /**
   * The kit's `text` of a value the caller has read itself (see {@link flagOf}); the same result
   * and the same issues as `text(name, required)` (field-reader.test.ts compares them).
   *
   * @param v - the property's value
   * @param name - the property (for the issue's pointer)
   * @param required - whether an absent or empty value is an issue
   * @returns the text, or undefined
   */
  textOf(v: unknown, name: string, required = false): string | undefined {
    if (typeof v === "string") {
      const t = v.length > 0 && v.charCodeAt(0) > 32 && v.charCodeAt(v.length - 1) > 32 ? v : v.trim();
      if (t !== "") return t;
      return required ? this.missing(name, "required, must not be empty") : undefined;
    }
    if (v !== undefined && v !== null) return this.invalid(name, v, this.rules.text);
    return required ? this.missing(name, "required, must not be empty") : undefined;
  }

  /**
   * The kit's `decimal` of a value the caller has read itself (see {@link flagOf}); the same result
   * and the same issues as `decimal(name, required)`.
   *
   * @param v - the property's value
   * @param name - the property (for the issue's pointer)
   * @param required - whether an absent value is an issue
   * @returns the canonical decimal string, or undefined
   */
  decimalOf(v: unknown, name: string, required = false): string | undefined {
    if (v === undefined || v === null || v === "") return required ? this.missing(name, this.rules.requiredDecimal) : undefined;
    const parsed = parseDecimal(v);
    return parsed === undefined ? this.invalid(name, v, this.rules.decimal) : parsed;
  }

  /**
   * Read an `Edm.DateTime` date property as a calendar date.
   *
   * @param name - the property
   * @param required - whether an absent value is an issue
   * @returns `YYYY-MM-DD`, or undefined
   */
  date(name: string, required = false): string | undefined {
    return this.field(name, toCalendarDate, { ...(required ? { required: "required Edm.DateTime" } : {}), form: "Edm.DateTime is /Date(ms)/" });
  }

  /**
   * Read a date property and an `Edm.Time` property as one timestamp in the plant's time zone.
   *
   * @param dateName - the date property
   * @param timeName - the time property (missing means midnight)
   * @returns RFC 3339 with offset, or undefined
   */
  timestamp(dateName: string, timeName: string): string | undefined {
    return this.timestampOf(this.record[dateName], dateName, timeName);
  }

  /**
   * {@link timestamp} with the date's value read by the caller (see {@link flagOf}); the time
   * property is read only when there is a date, as `timestamp` does.
   *
   * @param dv - the date property's value
   * @param dateName - the date property
   * @param timeName - the time property (missing means midnight)
   * @returns RFC 3339 with offset, or undefined
   */
  timestampOf(dv: unknown, dateName: string, timeName: string): string | undefined {
    if (dv === undefined || dv === null || dv === "") return undefined;
    const day = parseSapDate(dv);
    if (day === undefined) return this.invalid(dateName, dv, "Edm.DateTime is /Date(ms)/");
    const tv = this.record[timeName];
    const seconds = tv === undefined || tv === null || tv === "" ? 0 : parseEdmTime(tv);
    if (seconds === undefined) return this.invalid(timeName, tv, "Edm.Time is PThhHmmMssS");
    const ts = composeTimestamp(day, seconds, this.timeZone);
    return ts === undefined ? this.invalid(dateName, dv, "date outside years 0001-9999") : ts;
  }

  /**
   * Read an `Edm.DateTimeOffset` property as an instant.
   *
   * @param name - the property
   * @returns ms since the epoch, or undefined
   */
  instant(name: string): number | undefined {
    return this.field(name, parseSapDate, { form: "Edm.DateTimeOffset is /Date(ms)/ or /Date(ms+0000)/" });
  }
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
export function createFieldReader(record: ODataRecord, basePath: string, timeZone: string, issues: SapWireIssue[] = []): SapFieldReader {
  return new SapFieldReader(record, basePath, timeZone, issues);
}

/**
 * {@link createFieldReader} over one row of an expanded navigation; a row of `{"results": […]}`
 * gets its pointer only when an issue needs it.
 *
 * @param nav - the row and its pointer
 * @param timeZone - the plant's time zone
 * @param issues - where issues are collected
 * @returns the reader
 */
export function createRowReader(nav: NavigationRow, timeZone: string, issues: SapWireIssue[]): SapFieldReader {
  return nav instanceof ResultsRow ? new SapFieldReader(nav.row, nav.base, timeZone, issues, nav.index) : new SapFieldReader(nav.row, nav.path, timeZone, issues);
}
