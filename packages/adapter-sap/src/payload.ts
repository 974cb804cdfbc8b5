import { err, ok, type Result } from "neverthrow";
import { wireError, wireIssue, type SapMappingError, type SapWireIssue } from "./errors.js";
import type { ODataRecord } from "./wire.js";

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

/**
 * Run a mapper so that no input can make it throw: a value that cannot be read (a throwing getter
 * or proxy) becomes an `invalid_envelope` error instead of an exception.
 */
export function guard<T>(run: () => Result<T, SapMappingError>): Result<T, SapMappingError> {
  try {
    return run();
  } catch (cause) {
    const message = cause instanceof Error ? cause.name : "non-error";
    return err(wireError([wireIssue("invalid_envelope", "", undefined, `the payload could not be read as JSON data (${message})`)]));
  }
}
