const DECIMAL = /^([+-])?(\d{1,31})(?:\.(\d{1,15}))?$/;
const CANONICAL_DECIMAL = /^-?(?:0|[1-9]\d{0,30})(?:\.\d{1,15})?$/;

/**
 * Read a decimal sent as a JSON string (`"500.000"`, as OData's `Edm.Decimal` and most ERP APIs
 * send it) as an exact canonical decimal string: leading zeros and a `+` sign are dropped, the
 * scale is kept as sent, at most 31 integer and 15 fraction digits. Numbers are refused: a JSON
 * number has already lost the exact value.
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
