import { hash } from "node:crypto";
import canonicalize from "canonicalize";
import { err, ok, type Result } from "neverthrow";
import type { FingerprintError } from "./errors.js";

/**
 * Writes a value as RFC 8785 (JSON Canonicalization Scheme) text: members sorted by UTF-16 code
 * units, no whitespace, numbers in the ECMAScript shortest form, strings minimally escaped.
 * Uses the `canonicalize` library by one of the RFC's authors.
 *
 * @param value - plain JSON data
 * @returns the canonical text, or why the value has none (NaN, Infinity, a lone surrogate, a cycle, a value that is not JSON)
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // ok('{"a":[true,null],"b":1}')
 */
export function canonicalJson(value: unknown): Result<string, FingerprintError> {
  let text: string | undefined;
  try {
    text = canonicalize(value);
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
