import type { CanonicalEvent } from "@millwright/events";
import type { Quantity } from "@millwright/model";

/**
 * What an event means to a rule. `trigger` starts the expectation (the deadline runs from the
 * earliest trigger) and its quantity, if any, adds to the expected quantity; `fulfilment` meets it;
 * `partial` adds to the fulfilled quantity without meeting it; `measure` adds to the expected
 * quantity without starting anything.
 */
export type ObservationRole = "trigger" | "fulfilment" | "partial" | "measure";

/** A rule's reading of one event: the key it belongs to, its role and, for quantity rules, its quantity. */
export interface Observation {
  readonly key: string;
  readonly role: ObservationRole;
  readonly quantity?: Quantity;
  /** The site the event names (SAP plant), a label of the key for reports and metrics. */
  readonly site?: string;
  /** The production line or equipment the event names, a label of the key. */
  readonly line?: string;
  /**
   * The source's key of the fact this event states (a material document item, a confirmation),
   * so that a later reversal can name it in `reverses`.
   */
  readonly fact?: string;
  /**
   * The event undoes earlier facts (SAP 262, 102, a cancelled confirmation): its quantity counts
   * against its side (`partial`: the fulfilled side, `measure`: the expected side) and it never
   * meets the rule. A reversal with another role is a programmer error.
   */
  readonly reversal?: boolean;
  /** The `fact` this reversal undoes: that fact no longer meets the rule, and its evidence stays. */
  readonly reverses?: string;
}

/**
 * An expectation over canonical events: for every key with a trigger, a fulfilment within
 * `deadlineMs` and, when `tolerance` is set, fulfilled quantity equal to the measured quantity
 * within that absolute tolerance. Plain data plus one pure function, so users write their own
 * rules in typed code and run them on the same engine.
 */
export interface AlignmentRule {
  /** A stable name, such as `workorder-started`; part of every finding and record id. */
  readonly name: string;
  readonly description: string;
  /** How long after the trigger the fulfilment may come, in milliseconds. */
  readonly deadlineMs: number;
  /** The largest accepted |fulfilled − measured|, an exact decimal string; absent: no quantity check. */
  readonly tolerance?: string;
  /**
   * How long after the due time the engine keeps waiting for a missing fulfilment; then it reports
   * the breach resolved as `abandoned` and forgets the key. Absent: the engine's `giveUpAfterMs`.
   */
  readonly giveUpAfterMs?: number;
  /**
   * The event types `observe` reads. The engine indexes rules by them, so an event visits only the
   * rules that read its type; `observe` must return `undefined` for every other type. Absent: the
   * rule sees every event.
   */
  readonly types?: readonly string[];
  /** Reads an event: its key and role for this rule, or `undefined` when the rule ignores it. */
  readonly observe: (event: CanonicalEvent) => Observation | undefined;
}

/**
 * Defines a rule, checking the parts a type cannot: finite deadlines, a name of lower-case
 * words joined by hyphens and a decimal tolerance. A bad definition is a programmer error, so it throws.
 *
 * @param rule - the rule
 * @returns the same rule, frozen
 * @example
 * const heldResumed = defineRule({
 *   name: "workorder-resumed",
 *   description: "a held work order resumes within 8 h",
 *   deadlineMs: 8 * 3_600_000,
 *   observe: (e) =>
 *     e.type === "dev.millwright.workorder.held.v1" ? { key: e.data.orderId, role: "trigger" }
 *     : e.type === "dev.millwright.workorder.resumed.v1" ? { key: e.data.orderId, role: "fulfilment" }
 *     : undefined,
 * });
 */
export function defineRule(rule: AlignmentRule): AlignmentRule {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(rule.name) || rule.name.length > 64) {
    throw new TypeError(`defineRule: the name ${JSON.stringify(rule.name)} must be lower-case words joined by hyphens, at most 64 characters (it names the rule in alignment events)`);
  }
  if (!Number.isFinite(rule.deadlineMs) || rule.deadlineMs < 0) {
    throw new TypeError(`defineRule(${rule.name}): deadlineMs must be a finite number ≥ 0, got ${String(rule.deadlineMs)}`);
  }
  if (rule.giveUpAfterMs !== undefined && (!Number.isFinite(rule.giveUpAfterMs) || rule.giveUpAfterMs < 0)) {
    throw new TypeError(`defineRule(${rule.name}): giveUpAfterMs must be a finite number ≥ 0, got ${String(rule.giveUpAfterMs)}`);
  }
  if (rule.tolerance !== undefined && !/^(0|[1-9][0-9]{0,30})(\.[0-9]{1,15})?$/.test(rule.tolerance)) {
    throw new TypeError(`defineRule(${rule.name}): tolerance must be a non-negative decimal string, got ${JSON.stringify(rule.tolerance)}`);
  }
  if (rule.types !== undefined && (rule.types.length === 0 || rule.types.some((t) => typeof t !== "string" || t === ""))) {
    throw new TypeError(`defineRule(${rule.name}): types must list at least one event type, got ${JSON.stringify(rule.types)}`);
  }
  return Object.freeze(rule.types === undefined ? { ...rule } : { ...rule, types: Object.freeze([...rule.types]) });
}
