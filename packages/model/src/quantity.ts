import { Decimal as DecimalJs } from "decimal.js";
import { err, ok, type Result } from "neverthrow";
import type { Quantity } from "./generated/types.js";

/**
 * Exact quantity arithmetic on decimal strings, backed by decimal.js. Sums never drift: adding
 * "0.1" ten times gives exactly "1.0". Results keep the largest scale of their operands
 * ("10.000" + "2.5" = "12.500"), so SAP's three decimals survive a round trip.
 */

// 64 significant digits hold any Decimal the schema admits (31 + 15 digits) and long sums of them.
const Decimal = DecimalJs.clone({ precision: 64, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -64, toExpPos: 64 });
type Decimal = InstanceType<typeof Decimal>;

const DECIMAL = /^-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,15})?$/;
const UNIT = /^[A-Z0-9]{2,3}$/;

/** Why a quantity operation failed. */
export interface QuantityError {
  readonly code: "invalid_decimal" | "invalid_unit" | "unit_mismatch" | "negative_result" | "no_conversion" | "inexact_conversion" | "empty_sum";
  readonly message: string;
  /** The offending value: the decimal string, the unit, or the pair of units. */
  readonly value?: unknown;
}

/** A conversion between two units: 1 `from` = `factor` `to` (1 KGM = 1000 GRM). */
export interface UnitConversion {
  readonly from: string;
  readonly to: string;
  /** The exact factor, as a decimal string. */
  readonly factor: string;
}

function scaleOf(value: string): number {
  const dot = value.indexOf(".");
  return dot === -1 ? 0 : value.length - dot - 1;
}

function check(q: Quantity): QuantityError | undefined {
  if (typeof q.value !== "string" || !DECIMAL.test(q.value)) {
    return { code: "invalid_decimal", value: q.value, message: `${JSON.stringify(q.value)} is not a decimal string (pattern ${DECIMAL.source})` };
  }
  if (typeof q.unit !== "string" || !UNIT.test(q.unit)) {
    return { code: "invalid_unit", value: q.unit, message: `${JSON.stringify(q.unit)} is not a UN/CEFACT Rec 20 code (pattern ${UNIT.source})` };
  }
  return undefined;
}

function format(value: Decimal, scale: number, unit: string): Result<Quantity, QuantityError> {
  if (value.isNegative() && !value.isZero()) {
    const text = value.toFixed(scale);
    return err({ code: "negative_result", value: text, message: `the result ${text} ${unit} is negative; canonical quantities are not negative` });
  }
  return ok({ value: value.abs().toFixed(scale), unit });
}

/**
 * Creates a quantity after checking the decimal string and the unit code.
 *
 * @param value - an exact decimal string such as "10.000"
 * @param unit - a UN/CEFACT Rec 20 code such as "KGM"
 * @returns the quantity, or why it is not one
 * @example
 * createQuantity("10.000", "KGM"); // ok({ value: "10.000", unit: "KGM" })
 */
export function createQuantity(value: string, unit: string): Result<Quantity, QuantityError> {
  const q = { value, unit };
  const problem = check(q);
  if (problem !== undefined) return err(problem);
  if (value.startsWith("-") && !/^-0(\.0+)?$/.test(value)) {
    return err({ code: "negative_result", value, message: `${value} is negative; canonical quantities are not negative` });
  }
  return ok(q);
}

function pair(a: Quantity, b: Quantity): QuantityError | undefined {
  const problem = check(a) ?? check(b);
  if (problem !== undefined) return problem;
  if (a.unit !== b.unit) {
    return { code: "unit_mismatch", value: [a.unit, b.unit], message: `cannot combine ${a.unit} with ${b.unit}; convert one of them first` };
  }
  return undefined;
}

/**
 * Adds two quantities of the same unit, exactly.
 *
 * @param a - the first quantity
 * @param b - the second quantity, in the unit of the first
 * @returns the sum at the larger scale of the two, or unit_mismatch
 * @example
 * addQuantities({ value: "10.000", unit: "KGM" }, { value: "2.5", unit: "KGM" }); // ok("12.500 KGM")
 */
export function addQuantities(a: Quantity, b: Quantity): Result<Quantity, QuantityError> {
  const problem = pair(a, b);
  if (problem !== undefined) return err(problem);
  return format(new Decimal(a.value).plus(b.value), Math.max(scaleOf(a.value), scaleOf(b.value)), a.unit);
}

/**
 * Subtracts b from a, exactly; a negative result is an error, since quantities are not negative.
 *
 * @param a - the quantity to subtract from
 * @param b - the quantity to subtract, in the unit of a
 * @returns the difference, or unit_mismatch or negative_result
 * @example
 * subtractQuantities({ value: "500", unit: "H87" }, { value: "480", unit: "H87" }); // ok("20 H87")
 */
export function subtractQuantities(a: Quantity, b: Quantity): Result<Quantity, QuantityError> {
  const problem = pair(a, b);
  if (problem !== undefined) return err(problem);
  return format(new Decimal(a.value).minus(b.value), Math.max(scaleOf(a.value), scaleOf(b.value)), a.unit);
}

/**
 * Compares two quantities of the same unit by amount ("10.0" equals "10").
 *
 * @param a - the first quantity
 * @param b - the second quantity, in the unit of the first
 * @returns -1, 0 or 1, or unit_mismatch
 * @example
 * compareQuantities({ value: "10.0", unit: "KGM" }, { value: "10", unit: "KGM" }); // ok(0)
 */
export function compareQuantities(a: Quantity, b: Quantity): Result<-1 | 0 | 1, QuantityError> {
  const problem = pair(a, b);
  if (problem !== undefined) return err(problem);
  return ok(new Decimal(a.value).comparedTo(b.value) as -1 | 0 | 1);
}

/**
 * Sums quantities of one unit exactly. An empty list has no unit to sum in, so it needs `unit`.
 *
 * @param quantities - the quantities, all in one unit
 * @param unit - the unit of the result when the list is empty
 * @returns the sum at the largest scale of the terms
 * @example
 * sumQuantities(Array(10).fill({ value: "0.1", unit: "KGM" })); // ok("1.0 KGM")
 */
export function sumQuantities(quantities: readonly Quantity[], unit?: string): Result<Quantity, QuantityError> {
  const first = quantities[0];
  const target = first?.unit ?? unit;
  if (target === undefined) return err({ code: "empty_sum", message: "an empty sum needs the unit of its result" });
  let total = new Decimal(0);
  let scale = 0;
  for (const q of quantities) {
    const problem = pair({ value: q.value, unit: q.unit }, { value: "0", unit: target });
    if (problem !== undefined) return err(problem);
    total = total.plus(q.value);
    scale = Math.max(scale, scaleOf(q.value));
  }
  return format(total, scale, target);
}

/**
 * Converts a quantity to another unit with an explicit conversion table; never with a built-in
 * guess. A direct entry is applied exactly; an entry for the opposite direction is inverted, which
 * needs `scale` when the inverse is not a finite decimal.
 *
 * @param q - the quantity to convert
 * @param to - the unit to convert to
 * @param table - the allowed conversions
 * @param options - `scale`: the number of fraction digits to round the result to (half-even)
 * @returns the converted quantity, or no_conversion / inexact_conversion
 * @example
 * convertQuantity({ value: "1.5", unit: "KGM" }, "GRM", [{ from: "KGM", to: "GRM", factor: "1000" }]); // ok("1500.0 GRM")
 */
export function convertQuantity(
  q: Quantity,
  to: string,
  table: readonly UnitConversion[],
  options: { readonly scale?: number } = {},
): Result<Quantity, QuantityError> {
  const problem = check(q) ?? check({ value: "0", unit: to });
  if (problem !== undefined) return err(problem);
  if (q.unit === to) return ok(q);
  const direct = table.find((c) => c.from === q.unit && c.to === to);
  const inverse = direct === undefined ? table.find((c) => c.from === to && c.to === q.unit) : undefined;
  if (direct === undefined && inverse === undefined) {
    return err({ code: "no_conversion", value: [q.unit, to], message: `no conversion from ${q.unit} to ${to} in the table` });
  }
  const value = new Decimal(q.value);
  const result = direct !== undefined ? value.times(direct.factor) : value.dividedBy((inverse as UnitConversion).factor);
  const scale = options.scale ?? Math.max(0, result.decimalPlaces());
  const rounded = result.toDecimalPlaces(scale);
  if (options.scale === undefined && (!rounded.equals(result) || scale > 15)) {
    return err({
      code: "inexact_conversion",
      value: [q.unit, to],
      message: `${q.value} ${q.unit} in ${to} is not a finite decimal of at most 15 fraction digits; pass options.scale to round`,
    });
  }
  return format(rounded, options.scale ?? Math.max(scale, direct !== undefined ? scaleOf(q.value) : 0), to);
}

/**
 * Tells whether a quantity's amount is zero ("0", "0.000").
 *
 * @param q - the quantity
 * @returns whether its amount is zero
 * @example
 * isZeroQuantity({ value: "0.000", unit: "H87" }); // true
 */
export function isZeroQuantity(q: Quantity): boolean {
  return /^-?0(\.0+)?$/.test(q.value);
}
