import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import { err, ok, type Result } from "neverthrow";
import type { FingerprintError } from "./errors.js";

/** Thrown (never outside this module) when the fast writer meets a value it leaves to `canonicalize`. */
const HAND_OVER: unique symbol = Symbol("hand over to canonicalize");

/** Nesting deeper than this is handed over, so a cycle or a very deep value gets the library's verdict. */
const MAX_FAST_DEPTH = 128;

/** A UTF-16 unit that JSON.stringify escapes, or any surrogate (checked for pairing separately). */
const SPECIAL = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** Node ≥ 20 has `String.prototype.isWellFormed` (ES2024); the package's `lib` is ES2023. */
type WellFormed = string & { isWellFormed(): boolean };

/** Quoted member names seen before (up to 4,096 names of up to 64 units), so each is checked and escaped once. */
const quotedNames = new Map<string, string>();
const MAX_QUOTED_NAMES = 4096;
const MAX_QUOTED_NAME_LENGTH = 64;

function quote(text: string): string {
  if (!SPECIAL.test(text)) return `"${text}"`;
  if (!(text as WellFormed).isWellFormed()) throw HAND_OVER;
  return JSON.stringify(text);
}

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = quote(name);
    if (quotedNames.size < MAX_QUOTED_NAMES && name.length <= MAX_QUOTED_NAME_LENGTH) quotedNames.set(name, quoted);
  }
  return quoted;
}

function writeValue(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      // ES Number::toString is RFC 8785's number form (and writes -0 as 0).
      if (Number.isFinite(value)) return `${value}`;
      throw HAND_OVER;
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (depth >= MAX_FAST_DEPTH) throw HAND_OVER;
      return writeObject(value as Record<string, unknown>, depth + 1);
    default:
      // undefined (in an array), a function, a symbol, a bigint: the library decides.
      throw HAND_OVER;
  }
}

function writeObject(object: Record<string, unknown>, depth: number): string {
  if (typeof object["toJSON"] === "function") throw HAND_OVER;
  if (Array.isArray(object)) {
    const array = object as unknown[];
    const length = array.length;
    if (length === 0) return "[]";
    let out = `[${writeValue(array[0], depth)}`;
    for (let i = 1; i < length; i++) out += `,${writeValue(array[i], depth)}`;
    return `${out}]`;
  }
  const names = Object.keys(object);
  const count = names.length;
  for (let i = 1; i < count; i++) {
    // Default sort compares by UTF-16 code units, as `<` on strings does; most data comes sorted.
    if ((names[i - 1] as string) > (names[i] as string)) {
      names.sort();
      break;
    }
  }
  let out = "{";
  let first = true;
  for (let i = 0; i < count; i++) {
    const name = names[i] as string;
    const member = object[name];
    if (member === undefined || typeof member === "symbol") continue;
    out += `${first ? "" : ","}${quoteName(name)}:${writeValue(member, depth)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The canonical text of plain JSON data written directly (no intermediate arrays), or undefined when
 * the value holds anything the fast writer leaves to the `canonicalize` library: a non-finite number,
 * a string with a lone surrogate, `undefined` in an array, a hole, a function, a symbol, a bigint, an
 * object with `toJSON`, or nesting deeper than 128 (a cycle). The library then gives the verdict, so
 * results and refusals are the library's in every case.
 */
function writeFast(value: unknown): string | undefined {
  try {
    return writeValue(value, 0);
  } catch (cause) {
    if (cause === HAND_OVER) return undefined;
    throw cause;
  }
}

/**
 * Writes a value as RFC 8785 (JSON Canonicalization Scheme) text: members sorted by UTF-16 code
 * units, no whitespace, numbers in the ECMAScript shortest form, strings minimally escaped.
 * Plain JSON data is written by a direct writer; anything else (and every refusal) goes through the
 * `canonicalize` library by one of the RFC's authors, whose output the direct writer matches byte for byte.
 *
 * @param value - plain JSON data
 * @returns the canonical text, or why the value has none (NaN, Infinity, a lone surrogate, a cycle, a value that is not JSON)
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // ok('{"a":[true,null],"b":1}')
 */
export function canonicalJson(value: unknown): Result<string, FingerprintError> {
  let text: string | undefined;
  try {
    text = writeFast(value) ?? canonicalize(value);
  } catch (cause) {
    return err({ code: "not_canonical_json", message: `has no canonical JSON form: ${cause instanceof Error ? cause.message : String(cause)}`, value });
  }
  if (text === undefined) {
    return err({ code: "not_canonical_json", message: `has no canonical JSON form: ${typeof value} is not a JSON value`, value });
  }
  return ok(text);
}

/**
 * The content fingerprint of a value: lower-case hex SHA-256 of the UTF-8 of its RFC 8785
 * canonical JSON. Equal JSON data gives equal fingerprints whatever the member order.
 *
 * @param value - plain JSON data, such as an event's `data`
 * @returns 64 hex digits, or why the value has no canonical form
 * @example
 * fingerprint({ a: 1 }); // ok("015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862")
 */
export function fingerprint(value: unknown): Result<string, FingerprintError> {
  return canonicalJson(value).map((text) => hash("sha256", text, "hex"));
}
