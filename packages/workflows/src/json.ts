import type { JsonValue } from "./types.js";

/** A value made JSON, or where and why it is not. */
export type JsonCheck = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly path: string; readonly problem: string };

/**
 * Checks that a value is JSON and returns a copy of it: `null`, booleans, finite numbers,
 * strings, arrays and plain objects. `undefined` at the top is `null`; object properties that
 * are `undefined` are left out (as JSON.stringify does); anything else (a function, a bigint, a
 * Date, a Map, NaN, a cycle, `undefined` in an array) is not JSON.
 *
 * @param value - the value to check
 * @param path - the name of the value in the message
 * @returns the copy, or the path of the first offending part and why
 * @example
 * toJsonValue({ at: new Date() }, "result"); // { ok: false, path: "result.at", problem: "a Date is not JSON (use an ISO string)" }
 */
export function toJsonValue(value: unknown, path = "value"): JsonCheck {
  // The common case first: a plain JSON value, copied without building paths or tracking a set
  // of seen objects; anything it does not take (or nesting deeper than 200, perhaps a cycle)
  // goes the careful way below, which names the path of the problem.
  const fast = value === undefined ? null : copyPlain(value, 0);
  if (fast !== NOT_PLAIN) return { ok: true, value: fast };
  const seen = new Set<object>();
  let failure: { path: string; problem: string } | undefined;
  const walk = (v: unknown, at: string, top: boolean): JsonValue | undefined => {
    if (failure !== undefined) return undefined;
    if (v === null) return null;
    switch (typeof v) {
      case "boolean":
      case "string":
        return v;
      case "number":
        // -0 is written as 0 by JSON: record what a store gives back.
        if (Number.isFinite(v)) return Object.is(v, -0) ? 0 : v;
        failure = { path: at, problem: `${v} is not a JSON number` };
        return undefined;
      case "undefined":
        if (top) return null;
        failure = { path: at, problem: "undefined is not JSON" };
        return undefined;
      case "object": {
        if (seen.has(v)) {
          failure = { path: at, problem: "a cycle is not JSON" };
          return undefined;
        }
        if (Array.isArray(v)) {
          seen.add(v);
          const out = v.map((item, i) => walk(item, `${at}[${i}]`, false)) as JsonValue[];
          seen.delete(v);
          return out;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
          failure = { path: at, problem: `a ${name} is not JSON${name === "Date" ? " (use an ISO string)" : ""}` };
          return undefined;
        }
        seen.add(v);
        const out: Record<string, JsonValue> = {};
        for (const [k, item] of Object.entries(v)) {
          if (item === undefined) continue;
          const converted = walk(item, `${at}.${k}`, false);
          // defineProperty, not assignment: a key "__proto__" (valid JSON) must stay an own property.
          if (converted !== undefined) Object.defineProperty(out, k, { value: converted, enumerable: true, writable: true, configurable: true });
        }
        seen.delete(v);
        return out;
      }
      default:
        failure = { path: at, problem: `a ${typeof v} is not JSON` };
        return undefined;
    }
  };
  const result = walk(value, path, true);
  return failure === undefined ? { ok: true, value: result as JsonValue } : { ok: false, ...failure };
}

const NOT_PLAIN: unique symbol = Symbol("not plain JSON");

/** A copy of a plain JSON value (as `toJsonValue` makes it), or NOT_PLAIN for anything else. */
function copyPlain(v: unknown, depth: number): JsonValue | typeof NOT_PLAIN {
  if (v === null) return null;
  switch (typeof v) {
    case "boolean":
    case "string":
      return v;
    case "number":
      return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : NOT_PLAIN;
    case "object": {
      if (depth > 200) return NOT_PLAIN;
      if (Array.isArray(v)) {
        const out: JsonValue[] = new Array<JsonValue>(v.length);
        for (let i = 0; i < v.length; i++) {
          const item = copyPlain(v[i], depth + 1);
          if (item === NOT_PLAIN) return NOT_PLAIN;
          out[i] = item;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const out: Record<string, JsonValue> = {};
      for (const k of Object.keys(v)) {
        const item = (v as Record<string, unknown>)[k];
        if (item === undefined) continue;
        const converted = copyPlain(item, depth + 1);
        if (converted === NOT_PLAIN) return NOT_PLAIN;
        // A key "__proto__" (valid JSON) must stay an own property: defineProperty, not assignment.
        if (k === "__proto__") Object.defineProperty(out, k, { value: converted, enumerable: true, writable: true, configurable: true });
        else out[k] = converted;
      }
      return out;
    }
    default:
      return NOT_PLAIN;
  }
}
