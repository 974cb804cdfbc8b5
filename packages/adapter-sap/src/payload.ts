import { err, ok, type Result } from "neverthrow";
import { wireError, wireIssue, type SapMappingError, type SapWireIssue } from "./errors.js";
import type { ODataRecord } from "./odata-envelope.js";

/** Accept either a bare OData entity or its `{"d": {…}}` envelope; give the record and its JSON pointer. */
export function toEntityRecord(payload: unknown): Result<{ record: ODataRecord; path: string }, SapWireIssue> {
  let value: unknown;
  try {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return err(wireIssue("invalid_envelope", "", payload, "an OData V2 entity object or {\"d\": {…}}"));
    }
    const d = (payload as Record<string, unknown>)["d"];
    value = d;
    if (typeof d === "object" && d !== null && !Array.isArray(d)) {
      if (Array.isArray((d as Record<string, unknown>)["results"])) {
        return err(wireIssue("invalid_envelope", "/d/results", "[…]", "expected one entity, got a collection"));
      }
      return ok({ record: d as ODataRecord, path: "/d" });
    }
    return ok({ record: payload as ODataRecord, path: "" });
  } catch {
    return err(wireIssue("invalid_envelope", "", value, "the payload could not be read as JSON data"));
  }
}

/** Objects a payload walk visits at most; beyond that the payload is not treated as plain data. */
const WALK_LIMIT = 1_000_000;

/**
 * Whether a value is plain JSON data: every object and array is reached without a getter, a proxy
 * trap or a cycle throwing or repeating. Only called after a mapper threw, so its cost is off the
 * normal path.
 */
function isPlainData(root: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  try {
    while (stack.length > 0) {
      const value = stack.pop();
      if (typeof value !== "object" || value === null) continue;
      if (seen.has(value) || seen.size >= WALK_LIMIT) return false;
      seen.add(value);
      for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(value))) {
        if (!("value" in descriptor)) return false;
        stack.push(descriptor.value);
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Run a mapper so that no input can make it throw: when the mapper throws and the payload is not
 * plain JSON data (a throwing getter, a proxy, a cycle), the failure is an `invalid_envelope`
 * error. When the payload is plain data the exception is a bug in the mapper and is rethrown.
 *
 * @param payload - the input the mapper reads (every argument it reads from)
 * @param run - the mapper
 * @returns the mapper's result, or `invalid_envelope` for an input that cannot be read
 */
export function guard<T>(payload: unknown, run: () => Result<T, SapMappingError>): Result<T, SapMappingError> {
  try {
    return run();
  } catch (cause) {
    if (isPlainData(payload)) throw cause;
    const name = cause instanceof Error ? cause.name : "non-error";
    return err(wireError([wireIssue("invalid_envelope", "", undefined, `the payload could not be read as JSON data (${name})`)]));
  }
}
