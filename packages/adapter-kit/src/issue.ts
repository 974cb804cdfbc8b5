// The one issue shape of every adapter: what broke (code), where (JSON Pointer), which rule, which
// value, and a sentence for people built from those four.

/**
 * One problem with an input or an output of an adapter. Adapters narrow `TCode` to their own
 * codes; data that only some codes carry goes in an intersection (`Issue<"ambiguous_unit"> & { candidates }`).
 */
export interface Issue<TCode extends string = string> {
  readonly code: TCode;
  /** RFC 6901 JSON Pointer into the value that was read or built; `""` for the whole value. */
  readonly path: string;
  /** A sentence for people naming the path, the value and the rule. */
  readonly message: string;
  /** The rule the value broke, in words. */
  readonly rule: string;
  /** The offending value; absent when the value is missing. */
  readonly value?: unknown;
}

const PREVIEW_LENGTH = 80;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Bound a text built from untrusted input for a message, a log line or an error reply: at most
 * `max` characters (the last one `…` when cut), control characters shown as `\uXXXX`.
 *
 * @param text - the text
 * @param max - the longest result, 300 by default
 * @returns the printable, bounded text
 * @example
 * ```ts
 * boundedText("line\nbreak"); // "line\\u000abreak"
 * ```
 */
export function boundedText(text: string, max = 300): string {
  const printable = text.slice(0, max * 6 + 1).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return printable.length > max ? `${printable.slice(0, max - 1)}…` : printable;
}

/**
 * Quote a value for an error message: its JSON form through {@link boundedText}. A value that
 * cannot be serialised (a cycle, a BigInt, a throwing `toJSON`) is shown by its type tag; a
 * missing value as `undefined`.
 *
 * @param value - the value to show
 * @param max - the longest preview, 80 by default
 * @returns a printable, bounded text
 * @example
 * ```ts
 * preview("500,000"); // "\"500,000\""
 * preview({ results: null }); // "{\"results\":null}"
 * ```
 */
export function preview(value: unknown, max = PREVIEW_LENGTH): string {
  if (value === undefined) return "undefined";
  let text: string;
  try {
    // A string is cut before it is quoted: quoting never shortens it, so max + 1 characters suffice.
    text = typeof value === "string" ? JSON.stringify(value.slice(0, max + 1)) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return boundedText(text, max);
}

/**
 * Build an issue whose message names the path, the value (through {@link preview}) and the rule.
 *
 * @param code - what broke, e.g. `invalid_wire_value`
 * @param path - JSON Pointer of the value, `""` for the whole input
 * @param value - the offending value, `undefined` when it is missing
 * @param rule - the rule the value broke, in words
 * @returns the issue; `value` is absent when it was `undefined`
 * @example
 * ```ts
 * issue("invalid_wire_value", "/d/TotalQuantity", 500, 'Edm.Decimal is a JSON string such as "500.000"').message;
 * // '/d/TotalQuantity has value 500: Edm.Decimal is a JSON string such as "500.000"'
 * ```
 */
export function issue<TCode extends string>(code: TCode, path: string, value: unknown, rule: string): Issue<TCode> {
  const shown = value === undefined ? "is missing" : `has value ${preview(value)}`;
  const base = { code, path, rule, message: `${path || "(root)"} ${shown}: ${rule}` };
  return value === undefined ? base : { ...base, value };
}
