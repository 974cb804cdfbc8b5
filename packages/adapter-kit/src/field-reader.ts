// The field reader: turns the properties of one record into canonical values and collects one
// issue, at its JSON Pointer, for every value of the wrong form. Adapters extend it with their
// system's wire forms (SAP's Edm dates and ABAP flags).
import { parseDecimal } from "./decimal.js";
import { issue, type Issue } from "./issue.js";

/** The issue codes a field reader itself records. */
export type FieldIssueCode = "missing_property" | "invalid_wire_value";

/** The rules a field reader names in its issues; a subclass gives its system's wording (`Edm.Decimal …`). */
export interface FieldRules {
  /** The form of a text value. */
  readonly text: string;
  /** The form of a decimal value. */
  readonly decimal: string;
  /** A required decimal that is missing. */
  readonly requiredDecimal: string;
}

const RULES: FieldRules = {
  text: "a text is a JSON string",
  decimal: 'a decimal is a JSON string such as "500.000"',
  requiredDecimal: "a required decimal",
};

/**
 * A reader over one record; `TCode` adds the issue codes of a subclass's own reads. A class rather than a closure object because a reader is created for
 * every row of a document: shared methods keep that allocation small.
 *
 * @example
 * ```ts
 * const r = new FieldReader({ TotalQuantity: "500" }, "/d");
 * r.decimal("TotalQuantity", true); // "500"
 * r.issues; // []
 * ```
 */
export class FieldReader<TCode extends string = FieldIssueCode> {
  /**
   * @param record - the record's properties
   * @param basePath - the record's JSON Pointer in the payload
   * @param issues - where issues are collected; pass one array to share it across rows
   */
  constructor(
    protected readonly record: Readonly<Record<string, unknown>>,
    protected readonly basePath: string,
    readonly issues: Issue<TCode | FieldIssueCode>[] = [],
  ) {}

  /** The rules named in this reader's issues; override to use the system's wording. */
  protected get rules(): FieldRules {
    return RULES;
  }

  /**
   * The JSON Pointer of a property of this record.
   *
   * @param name - the property
   * @returns the pointer
   */
  at(name: string): string {
    const key = name.includes("~") || name.includes("/") ? name.replace(/~/g, "~0").replace(/\//g, "~1") : name;
    return `${this.basePath}/${key}`;
  }

  /**
   * Record a missing required property.
   *
   * @param name - the property
   * @param rule - the rule, e.g. `required Edm.Decimal`
   * @returns undefined, to return from a read
   */
  missing(name: string, rule: string): undefined {
    this.issues.push(issue("missing_property", this.at(name), undefined, rule));
    return undefined;
  }

  /**
   * Record a value of the wrong form.
   *
   * @param name - the property (the pointer is taken from it)
   * @param value - the value
   * @param rule - the form it should have
   * @returns undefined, to return from a read
   */
  invalid(name: string, value: unknown, rule: string): undefined {
    this.issues.push(issue("invalid_wire_value", this.at(name), value, rule));
    return undefined;
  }

  /**
   * Read a property with a parser: absent (`undefined`, `null`, `""`) is a `missing_property`
   * issue when required, a value the parser refuses is an `invalid_wire_value` issue.
   *
   * @param name - the property
   * @param parse - the parser; undefined means the value has the wrong form
   * @param rules - the rule for a missing value and the rule for a wrong form
   * @returns the parsed value, or undefined
   */
  field<TValue>(name: string, parse: (value: unknown) => TValue | undefined, rules: { readonly required?: string; readonly form: string }): TValue | undefined {
    const v = this.record[name];
    if (v === undefined || v === null || v === "") return rules.required === undefined ? undefined : this.missing(name, rules.required);
    const parsed = parse(v);
    return parsed === undefined ? this.invalid(name, v, rules.form) : parsed;
  }

  /**
   * Read a text property: trimmed, empty means absent.
   *
   * @param name - the property
   * @param required - whether an absent or empty value is an issue
   * @returns the text, or undefined
   */
  text(name: string, required = false): string | undefined {
    const v = this.record[name];
    if (typeof v === "string") {
      const t = v.length > 0 && v.charCodeAt(0) > 32 && v.charCodeAt(v.length - 1) > 32 ? v : v.trim();
      if (t !== "") return t;
      return required ? this.missing(name, "required, must not be empty") : undefined;
    }
    if (v !== undefined && v !== null) return this.invalid(name, v, this.rules.text);
    return required ? this.missing(name, "required, must not be empty") : undefined;
  }

  /**
   * Read a decimal sent as a JSON string (see {@link parseDecimal}).
   *
   * @param name - the property
   * @param required - whether an absent value is an issue
   * @returns the canonical decimal string, or undefined
   */
  decimal(name: string, required = false): string | undefined {
    // What `field` does, written out: this runs for every quantity of every row, and the rules
    // object `field` takes would be one allocation per read.
    const v = this.record[name];
    if (v === undefined || v === null || v === "") return required ? this.missing(name, this.rules.requiredDecimal) : undefined;
    const parsed = parseDecimal(v);
    return parsed === undefined ? this.invalid(name, v, this.rules.decimal) : parsed;
  }
}
