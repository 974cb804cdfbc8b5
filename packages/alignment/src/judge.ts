import { compareQuantities, subtractQuantities, sumQuantities, type Quantity, type QuantityError } from "@millwright/model";
import type { Result } from "neverthrow";
import type { AlignmentRule, ObservationRole } from "./rule.js";

/** One event as a key's state keeps it: its identity, time and what it meant to the rule. */
export interface ObservedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly timeMs: number;
  readonly role: ObservationRole;
  readonly quantity?: Quantity;
}

/** The state of one open key of one rule: its events (deduplicated, in canonical order). */
export interface KeyState {
  readonly rule: string;
  readonly key: string;
  readonly events: readonly ObservedEvent[];
  /** Whether a `missing` breach was already reported for this key. */
  readonly breached: boolean;
}

/** The quantity comparison of a fulfilled quantity rule. */
export type QuantityCheck =
  | { readonly ok: true; readonly difference: string; readonly unit: string; readonly withinTolerance: boolean }
  | { readonly ok: false; readonly detail: string };

/** Where a key stands at a given time. */
export type Verdict =
  | { readonly status: "orphan" }
  | { readonly status: "waiting"; readonly dueMs: number }
  | { readonly status: "missing"; readonly dueMs: number; readonly latenessMs: number }
  | { readonly status: "fulfilled"; readonly dueMs: number; readonly latenessMs: number; readonly quantity?: QuantityCheck };

/**
 * The canonical order of a key's events: time, then source, then id. Findings depend only on
 * this order, never on arrival order, which is what makes replay and permutation safe.
 *
 * @param a - one event
 * @param b - another event
 * @returns negative, zero or positive
 * @example
 * [...events].sort(compareObserved);
 */
export function compareObserved(a: ObservedEvent, b: ObservedEvent): number {
  if (a.timeMs !== b.timeMs) return a.timeMs - b.timeMs;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/**
 * The exact signed difference a − b of two quantities of one unit.
 *
 * @param a - the minuend
 * @param b - the subtrahend
 * @returns the difference as a decimal string such as "-2.500", or why it cannot be computed
 * @example
 * signedDifference({ value: "98", unit: "H87" }, { value: "100.0", unit: "H87" }); // ok("-2.0")
 */
export function signedDifference(a: Quantity, b: Quantity): Result<string, QuantityError> {
  return compareQuantities(a, b).andThen((order) =>
    order >= 0 ? subtractQuantities(a, b).map((q) => q.value) : subtractQuantities(b, a).map((q) => `-${q.value}`),
  );
}

function checkQuantity(tolerance: string, events: readonly ObservedEvent[]): QuantityCheck {
  const fulfilled: Quantity[] = [];
  const measured: Quantity[] = [];
  for (const e of events) {
    if (e.quantity === undefined) continue;
    if (e.role === "fulfilment" || e.role === "partial") fulfilled.push(e.quantity);
    else if (e.role === "measure") measured.push(e.quantity);
  }
  const unit = fulfilled[0]?.unit ?? measured[0]?.unit;
  if (unit === undefined) return { ok: true, difference: "0", unit: "", withinTolerance: true };
  const result = sumQuantities(fulfilled, unit).andThen((actual) =>
    sumQuantities(measured, unit).andThen((expected) =>
      signedDifference(actual, expected).andThen((difference) => {
        const magnitude = difference.startsWith("-") ? difference.slice(1) : difference;
        return compareQuantities({ value: magnitude, unit }, { value: tolerance, unit }).map((c) => ({ difference, within: c <= 0 }));
      }),
    ),
  );
  return result.match(
    ({ difference, within }) => ({ ok: true as const, difference, unit, withinTolerance: within }),
    (e) => ({ ok: false as const, detail: e.message }),
  );
}

/**
 * Judges one key at time `nowMs`: orphan (no trigger yet), waiting, missing after the deadline,
 * or fulfilled (with its lateness and, for quantity rules, the quantity check). Pure.
 *
 * @param rule - the rule
 * @param state - the key's state
 * @param nowMs - the evaluation time, ms since the epoch
 * @returns the verdict
 * @example
 * judgeKey(rule, state, Date.parse("2026-03-01T12:00:00Z"));
 */
export function judgeKey(rule: AlignmentRule, state: KeyState, nowMs: number): Verdict {
  const trigger = state.events.find((e) => e.role === "trigger");
  if (trigger === undefined) return { status: "orphan" };
  const dueMs = trigger.timeMs + rule.deadlineMs;
  const fulfilment = state.events.find((e) => e.role === "fulfilment");
  if (fulfilment === undefined) {
    return nowMs > dueMs ? { status: "missing", dueMs, latenessMs: nowMs - dueMs } : { status: "waiting", dueMs };
  }
  const latenessMs = Math.max(0, fulfilment.timeMs - dueMs);
  if (rule.tolerance === undefined) return { status: "fulfilled", dueMs, latenessMs };
  return { status: "fulfilled", dueMs, latenessMs, quantity: checkQuantity(rule.tolerance, state.events) };
}

