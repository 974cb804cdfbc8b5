import { compareQuantities, subtractQuantities, sumQuantities, type Quantity, type QuantityError } from "@millwright/model";
import type { Result } from "neverthrow";
import type { AlignmentRule, Observation, ObservationRole } from "./rule.js";

/** One event as a key's state keeps it: its identity, time and what it meant to the rule. */
export interface ObservedEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly timeMs: number;
  readonly role: ObservationRole;
  readonly quantity?: Quantity;
  readonly site?: string;
  readonly line?: string;
  /** See {@link Observation.fact}. */
  readonly fact?: string;
  /** Present (true) when the event undoes earlier facts: its quantity counts against its side. */
  readonly reversal?: true;
  /** See {@link Observation.reverses}. */
  readonly reverses?: string;
}

/** The state of one open key of one rule: its events (deduplicated, in canonical order). */
export interface KeyState {
  readonly rule: string;
  readonly key: string;
  readonly events: readonly ObservedEvent[];
  /** Whether a `missing` breach was already reported for this key. */
  readonly breached: boolean;
  /** The site of the key: the first site its events name, in canonical order. */
  readonly site?: string;
  /** The line of the key: the first line its events name, in canonical order. */
  readonly line?: string;
}

/** The quantity comparison of a fulfilled quantity rule. */
type QuantityCheck =
  | { readonly ok: true; readonly difference: string; readonly unit: string; readonly withinTolerance: boolean }
  | { readonly ok: false; readonly detail: string };

/** Where a key stands at a given time. */
export type Verdict =
  | { readonly status: "orphan" }
  | { readonly status: "waiting"; readonly dueMs: number }
  | { readonly status: "missing"; readonly dueMs: number; readonly latenessMs: number }
  | { readonly status: "abandoned"; readonly dueMs: number; readonly latenessMs: number }
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


function scaledBy(value: string, scale: number): bigint {
  const dot = value.indexOf(".");
  const whole = dot < 0 ? value : value.slice(0, dot);
  const fraction = dot < 0 ? "" : value.slice(dot + 1);
  return BigInt(whole + fraction.padEnd(scale, "0"));
}

function formatScaled(n: bigint, scale: number): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * Reads a non-negative decimal small enough for exact integer arithmetic once scaled (the common
 * case): `0` or 1–18 digits without a leading zero, then optionally `.` and 1–9 digits. Gives its
 * count of whole and of fraction digits, or `undefined` for any other form.
 */
function simpleShape(value: string): { readonly whole: number; readonly fraction: number } | undefined {
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i += 1;
  }
  const whole = i;
  if (whole === 0 || whole > 18 || (whole > 1 && value.charCodeAt(0) === 48)) return undefined;
  if (i === n) return { whole, fraction: 0 };
  if (value.charCodeAt(i) !== 46) return undefined;
  const fraction = n - i - 1;
  if (fraction < 1 || fraction > 9) return undefined;
  for (let j = i + 1; j < n; j++) {
    const c = value.charCodeAt(j);
    if (c < 48 || c > 57) return undefined;
  }
  return { whole, fraction };
}

/** The value × 10^scale as a Number; exact when its digits (whole + scale) are at most 15. */
function scaledNumber(value: string, scale: number): number {
  let n = 0;
  let decimals = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 46) decimals = 0;
    else {
      n = n * 10 + (c - 48);
      if (decimals >= 0) decimals += 1;
    }
  }
  return n * 10 ** (scale - Math.max(decimals, 0));
}

function formatScaledNumber(n: number, scale: number): string {
  const digits = String(Math.abs(n)).padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return n < 0 ? `-${text}` : text;
}

/**
 * The exact comparison with integers, when every quantity is in `unit` and a plain decimal: the
 * same result as the decimal.js path (the difference at the largest scale of the inputs), several
 * times faster. Doubles when every scaled value has at most 15 digits and their magnitudes sum to
 * at most 2^53 − 1 (every partial sum is then exact), BigInt otherwise. `undefined` sends anything
 * else to the general path.
 */
function fastCheck(tolerance: string, fulfilled: readonly Quantity[], measured: readonly Quantity[], unit: string): QuantityCheck | undefined {
  let scale = 0;
  let wholeDigits = 0;
  for (const list of [fulfilled, measured]) {
    for (const q of list) {
      const shape = q.unit === unit ? simpleShape(q.value) : undefined;
      if (shape === undefined) return undefined;
      if (shape.fraction > scale) scale = shape.fraction;
      if (shape.whole > wholeDigits) wholeDigits = shape.whole;
    }
  }
  const t = simpleShape(tolerance);
  if (t === undefined) return undefined;
  const compareScale = Math.max(scale, t.fraction);
  if (wholeDigits + compareScale <= 15 && t.whole + compareScale <= 15) {
    let difference = 0;
    let magnitudes = 0;
    for (const q of fulfilled) {
      const v = scaledNumber(q.value, compareScale);
      difference += v;
      magnitudes += v;
    }
    for (const q of measured) {
      const v = scaledNumber(q.value, compareScale);
      difference -= v;
      magnitudes += v;
    }
    if (magnitudes <= Number.MAX_SAFE_INTEGER) {
      // Every value is a multiple of 10^(compareScale − scale), so the division is exact.
      const shown = difference / 10 ** (compareScale - scale);
      return { ok: true, difference: formatScaledNumber(shown === 0 ? 0 : shown, scale), unit, withinTolerance: Math.abs(difference) <= scaledNumber(tolerance, compareScale) };
    }
  }
  let difference = 0n;
  for (const q of fulfilled) difference += scaledBy(q.value, compareScale);
  for (const q of measured) difference -= scaledBy(q.value, compareScale);
  const magnitude = difference < 0n ? -difference : difference;
  const shown = difference / 10n ** BigInt(compareScale - scale);
  return { ok: true, difference: formatScaled(shown, scale), unit, withinTolerance: magnitude <= scaledBy(tolerance, compareScale) };
}

/**
 * Compares the quantities, or `undefined` when one side has none (nothing to compare with). A
 * reversal counts against its own side, so it is moved to the other: fulfilled − measured =
 * (fulfilled + reversed measures) − (measured + reversed fulfilments), and only sums of
 * non-negative quantities are needed.
 */
function checkQuantity(tolerance: string, events: readonly ObservedEvent[]): QuantityCheck | undefined {
  const fulfilled: Quantity[] = [];
  const measured: Quantity[] = [];
  let unit: string | undefined;
  let measuredSide = false;
  for (const e of events) {
    if (e.quantity === undefined) continue;
    const onFulfilledSide = e.role === "fulfilment" || e.role === "partial";
    if (onFulfilledSide) unit ??= e.quantity.unit;
    else measuredSide = true;
    if (onFulfilledSide !== (e.reversal === true)) fulfilled.push(e.quantity);
    else measured.push(e.quantity);
  }
  if (unit === undefined || !measuredSide) return undefined;
  const fast = fastCheck(tolerance, fulfilled, measured, unit);
  if (fast !== undefined) return fast;
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
 * The earliest fulfilment that reversals have not undone. A fact is undone when the reversals that
 * name it take back all of its quantity (SAP reverses a whole document item; a 262 with reference
 * may return only part), or, for facts without a quantity, when any reversal names it.
 */
function effectiveFulfilment(events: readonly ObservedEvent[]): ObservedEvent | undefined {
  let reversals: Map<string, ObservedEvent[]> | undefined;
  for (const e of events) {
    if (e.reverses === undefined) continue;
    reversals ??= new Map();
    const list = reversals.get(e.reverses);
    if (list === undefined) reversals.set(e.reverses, [e]);
    else list.push(e);
  }
  return events.find((e) => e.role === "fulfilment" && e.reversal !== true && !(reversals !== undefined && e.fact !== undefined && isUndone(e, reversals.get(e.fact))));
}

function isUndone(fact: ObservedEvent, reversals: readonly ObservedEvent[] | undefined): boolean {
  if (reversals === undefined) return false;
  const original = fact.quantity;
  const taken: Quantity[] = [];
  for (const r of reversals) {
    if (original === undefined || r.quantity === undefined) return true;
    taken.push(r.quantity);
  }
  if (original === undefined) return false;
  // Quantities in another unit cannot be compared: the fact stands, and the quantity check says why.
  return sumQuantities(taken, original.unit).andThen((sum) => compareQuantities(sum, original)).match((c) => c >= 0, () => false);
}

/**
 * Checks a rule's reading of an event beyond what its type says: a reversal is on the fulfilled
 * (`partial`) or expected (`measure`) side, never a trigger or a fulfilment.
 *
 * @param rule - the rule's name, for the message
 * @param observation - what the rule read
 * @returns the observation
 * @example
 * checkObservation("goodsissue-posted", { key: "1000123/RM-1", role: "partial", reversal: true });
 */
export function checkObservation(rule: string, observation: Observation): Observation {
  if (observation.reversal === true && observation.role !== "partial" && observation.role !== "measure") {
    throw new TypeError(`rule ${rule}: a reversal must have the role "partial" or "measure", not ${JSON.stringify(observation.role)} (a reversal never starts or meets an expectation)`);
  }
  return observation;
}

/**
 * Judges one key at time `nowMs`: orphan (no trigger yet), waiting, missing after the deadline,
 * abandoned (missing for `giveUpAfterMs` or longer after the deadline), or fulfilled (with its
 * lateness and, for quantity rules, the quantity check). A quantity rule fulfilled before its
 * deadline keeps waiting until the deadline, so quantities reported within the window still count.
 * Pure.
 *
 * @param rule - the rule
 * @param state - the key's state
 * @param nowMs - the evaluation time, ms since the epoch
 * @param giveUpAfterMs - the engine's default give-up time, used when the rule has none
 * @returns the verdict
 * @example
 * judgeKey(rule, state, Date.parse("2026-03-01T12:00:00Z"));
 */
export function judgeKey(rule: AlignmentRule, state: KeyState, nowMs: number, giveUpAfterMs = Number.POSITIVE_INFINITY): Verdict {
  const trigger = state.events.find((e) => e.role === "trigger");
  if (trigger === undefined) return { status: "orphan" };
  const dueMs = trigger.timeMs + rule.deadlineMs;
  const fulfilment = effectiveFulfilment(state.events);
  if (fulfilment === undefined) {
    if (nowMs <= dueMs) return { status: "waiting", dueMs };
    const latenessMs = nowMs - dueMs;
    // Given up once the give-up time has passed in full: a key missing exactly that long is abandoned.
    return latenessMs >= (rule.giveUpAfterMs ?? giveUpAfterMs) ? { status: "abandoned", dueMs, latenessMs } : { status: "missing", dueMs, latenessMs };
  }
  if (rule.tolerance !== undefined && nowMs <= dueMs) return { status: "waiting", dueMs };
  const latenessMs = Math.max(0, fulfilment.timeMs - dueMs);
  if (rule.tolerance === undefined) return { status: "fulfilled", dueMs, latenessMs };
  const quantity = checkQuantity(rule.tolerance, state.events);
  return quantity === undefined ? { status: "fulfilled", dueMs, latenessMs } : { status: "fulfilled", dueMs, latenessMs, quantity };
}


/**
 * The labels of a key: the first site and the first line its events name, in canonical order,
 * so they do not depend on arrival order.
 *
 * @param events - the key's events, in canonical order
 * @returns the site and line, where any event names them
 * @example
 * labelsOf(state.events); // { site: "1710", line: "FAB" }
 */
export function labelsOf(events: readonly ObservedEvent[]): { readonly site: string | undefined; readonly line: string | undefined } {
  let site: string | undefined;
  let line: string | undefined;
  for (let i = 0; i < events.length && (site === undefined || line === undefined); i++) {
    const e = events[i] as ObservedEvent;
    site ??= e.site;
    line ??= e.line;
  }
  return { site, line };
}
