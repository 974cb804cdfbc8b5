import type { ContractName, ModelError } from "@millwright/model";

/** What went wrong while reading or mapping a SAP payload. */
export type SapMappingErrorCode =
  | "invalid_envelope"
  | "missing_property"
  | "invalid_wire_value"
  | "incomplete_navigation"
  | "unknown_unit"
  | "unknown_movement_type"
  | "unmapped_value"
  | "invalid_entity";

/** One problem with a SAP wire value: which property, which value, which rule. */
export interface SapWireIssue {
  readonly code: Exclude<SapMappingErrorCode, "invalid_entity">;
  /** RFC 6901 JSON Pointer into the SAP payload, e.g. `/to_ProductionOrderOperation/results/0/OpPlannedTotalQuantity`. */
  readonly path: string;
  /** The rule the value broke, in words. */
  readonly rule: string;
  /** A sentence for people naming the path, the value and the rule. */
  readonly message: string;
  /** The offending value (absent for a missing property). */
  readonly value?: unknown;
}

/** The mapped record is not a valid canonical entity; the model's issues are kept unchanged. */
export interface SapInvalidEntityError {
  readonly code: "invalid_entity";
  readonly entity: ContractName;
  readonly path: "";
  readonly message: string;
  readonly cause: ModelError;
}

/** Wire-level problems with a SAP payload: the first issue's fields, plus every issue found. */
export interface SapWireError extends SapWireIssue {
  readonly issues: readonly SapWireIssue[];
}

/** Why a SAP payload could not be mapped: wire-level issues or a model validation failure. */
export type SapMappingError = SapWireError | SapInvalidEntityError;

/** Collect wire issues into one error (the first issue leads). Programmer error if empty. */
export function wireError(issues: readonly SapWireIssue[]): SapWireError {
  const first = issues[0];
  if (first === undefined) throw new Error("wireError needs at least one issue");
  return { ...first, issues };
}

/** Quote a value for an error message without dumping large payloads. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Build a wire issue with a message that names the path, the value and the rule. */
export function wireIssue(
  code: SapWireIssue["code"],
  path: string,
  value: unknown,
  rule: string,
): SapWireIssue {
  const shown = value === undefined ? "is missing" : `has value ${describeValue(value)}`;
  const base = { code, path, rule, message: `${path || "(root)"} ${shown}: ${rule}` };
  return value === undefined ? base : { ...base, value };
}

/** Wrap a model validation failure. */
export function invalidEntity(error: ModelError): SapInvalidEntityError {
  return { code: "invalid_entity", entity: error.entity, path: "", message: error.message, cause: error };
}
