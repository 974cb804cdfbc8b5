import { issue, runMapper } from "@millwright/adapter-kit";
import { err, ok, type Result } from "neverthrow";
import { wireError, type SapMappingError, type SapWireIssue } from "./errors.js";
import type { ODataRecord } from "./odata-envelope.js";

/** Accept either a bare OData entity or its `{"d": {…}}` envelope; give the record and its JSON pointer. */
export function toEntityRecord(payload: unknown): Result<{ record: ODataRecord; path: string }, SapWireIssue> {
  let value: unknown;
  try {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return err(issue("invalid_envelope", "", payload, "an OData V2 entity object or {\"d\": {…}}"));
    }
    const d = (payload as Record<string, unknown>)["d"];
    value = d;
    if (typeof d === "object" && d !== null && !Array.isArray(d)) {
      if (Array.isArray((d as Record<string, unknown>)["results"])) {
        return err(issue("invalid_envelope", "/d/results", "[…]", "expected one entity, got a collection"));
      }
      return ok({ record: d as ODataRecord, path: "/d" });
    }
    return ok({ record: payload as ODataRecord, path: "" });
  } catch {
    return err(issue("invalid_envelope", "", value, "the payload could not be read as JSON data"));
  }
}

/**
 * Run a SAP mapper through the adapter kit's runner: a reader failure is a wire error, a payload
 * that is not plain JSON data (a throwing getter, a proxy, a cycle) is `invalid_envelope`, and any
 * other exception is a bug in the mapper and is rethrown, never reported as bad input.
 *
 * @param payload - the input the mapper reads (every argument it reads from)
 * @param run - the mapper
 * @returns the mapper's result, or the error of a reader failure or an unreadable payload
 */
export function guard<T>(payload: unknown, run: () => Result<T, SapMappingError>): Result<T, SapMappingError> {
  return runMapper<T, SapMappingError, SapWireIssue>({ input: payload, toError: wireError, unreadableCode: "invalid_envelope" }, run);
}
