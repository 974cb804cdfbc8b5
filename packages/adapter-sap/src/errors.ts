import type { Issue } from "@millwright/adapter-kit";
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

/**
 * One problem with a SAP wire value: which property (an RFC 6901 JSON Pointer into the SAP payload,
 * e.g. `/to_ProductionOrderOperation/results/0/OpPlannedTotalQuantity`), which value, which rule.
 * The adapter kit's one issue shape.
 */
export type SapWireIssue = Issue<Exclude<SapMappingErrorCode, "invalid_entity">>;

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

/** Wrap a model validation failure. */
export function invalidEntity(error: ModelError): SapInvalidEntityError {
  return { code: "invalid_entity", entity: error.entity, path: "", message: error.message, cause: error };
}
