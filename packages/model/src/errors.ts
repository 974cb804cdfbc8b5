import type { EntityName } from "./generated/catalog.js";

/** The contract documents `parseX` checks: the canonical entities and the generic WMS contract. */
export type ContractName = EntityName | "WmsEvent" | "WmsRequest";

/** What is wrong with one value of an input, by JSON Schema keyword or by semantic rule. */
export type ModelIssueCode =
  // from the schema
  | "missing_property"
  | "unknown_property"
  | "invalid_type"
  | "invalid_value"
  | "invalid_format"
  | "invalid_length"
  | "out_of_range"
  | "invalid_size"
  | "invalid_variant"
  | "invalid_key"
  | "forbidden_property"
  | "unreadable_input"
  // semantic rules
  | "negative_quantity"
  | "zero_quantity"
  | "end_before_start"
  | "unit_mismatch"
  | "duplicate_key"
  | "dangling_reference"
  | "material_mismatch"
  | "self_reference"
  | "self_reversal"
  | "inconsistent_reversal"
  | "missing_location"
  | "unexpected_location"
  | "same_location"
  | "location_changed"
  | "stock_type_unchanged"
  | "missing_direction"
  | "unexpected_direction"
  | "missing_disposition"
  | "unexpected_disposition"
  | "inconsistent_disposition"
  | "inconsistent_state"
  | "counter_decreased"
  | "inconsistent_finding";

/** One problem found in an input: where it is, what value is there, and which rule it breaks. */
export interface ModelIssue {
  readonly code: ModelIssueCode;
  /** RFC 6901 JSON Pointer into the input; `""` is the input itself. */
  readonly path: string;
  /** A sentence for people, naming the path, the value and the rule. */
  readonly message: string;
  /** The rule broken: a schema keyword with its argument, or the semantic rule in words. */
  readonly rule: string;
  /** The offending value, when there is one (absent for a missing property). */
  readonly value?: unknown;
  /** The plant profile (`id@version`) whose rule this is; absent for the global contract's rules. */
  readonly profile?: string;
}

/** Why an input is not a valid canonical entity: every issue found, not just the first. */
export interface ModelError {
  readonly code: "invalid_entity";
  /** What the input was checked as: an entity name, or WmsEvent / WmsRequest. */
  readonly entity: ContractName;
  /** A one-line summary listing the first issues. */
  readonly message: string;
  readonly issues: readonly ModelIssue[];
  /** Whether issues were left out because there were more than {@link MAX_ISSUES}. */
  readonly truncated: boolean;
}

/** The most issues one error lists; a hostile input cannot make an error unboundedly large. */
export const MAX_ISSUES = 100;

/** Renders a value for a message: JSON when short, cut with an ellipsis when long. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Appends a property name to a JSON Pointer, escaping `~` and `/` as RFC 6901 requires. */
export function pointer(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/**
 * Builds the error for an entity from its issues, capping their number.
 *
 * @param total - how many issues there are in all, when `issues` holds only the first of them
 */
export function createModelError(entity: ContractName, issues: readonly ModelIssue[], total = issues.length): ModelError {
  const truncated = total > MAX_ISSUES;
  const kept = issues.length > MAX_ISSUES ? issues.slice(0, MAX_ISSUES) : issues;
  const shown = kept.slice(0, 3).map((i) => i.message);
  const more = total > shown.length ? ` (+${total - shown.length} more)` : "";
  return {
    code: "invalid_entity",
    entity,
    message: `${entity} is invalid: ${shown.join("; ")}${more}`,
    issues: kept,
    truncated,
  };
}
