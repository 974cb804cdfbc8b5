/** The integer width of a cumulative counter and how it wraps. */
export interface CounterWidth {
  /** Largest value before the wrap: 2147483647 for Int32, 4294967295 for UInt32. */
  readonly max: number;
  /** Value the counter wraps to: −2147483648 for a signed Int32, 0 for UInt32 and most PLC counters. */
  readonly wrapValue: number;
  /**
   * The most parts the counter can count between two readings. A rise beyond it is a preset, not
   * production (reported as `counter_jumped`, nothing counted); a rollover or a count since a reset
   * beyond it is not taken for one. Less than half the range `max − wrapValue + 1`.
   */
  readonly margin: number;
}

/** The Int32 counter width: wraps from 2147483647 to −2147483648. */
export const INT32_COUNTER: CounterWidth = { max: 2147483647, wrapValue: -2147483648, margin: 1_000_000 };
/** The UInt32 counter width: wraps from 4294967295 to 0. */
export const UINT32_COUNTER: CounterWidth = { max: 4294967295, wrapValue: 0, margin: 1_000_000 };

/** How a counter moved between two readings. */
export type CounterDelta =
  | { readonly kind: "normal"; readonly delta: number; readonly reset: false; readonly rollover: false }
  | { readonly kind: "rollover"; readonly delta: number; readonly reset: false; readonly rollover: true }
  | { readonly kind: "reset"; readonly delta: number; readonly reset: true; readonly rollover: false }
  | { readonly kind: "jumped"; readonly delta: 0; readonly reset: false; readonly rollover: false }
  | { readonly kind: "decreased"; readonly delta: 0; readonly reset: false; readonly rollover: false };

/** What else is known about the interval between two readings. */
export interface CounterDeltaOptions {
  /**
   * The machine signalled a reset between the two readings (a PackML Resetting or Clearing state
   * was seen): a drop of the counter is then a reset even where it looks like a rollover, and a
   * negative (wrapped) signed counter coming back to a small value is a reset.
   */
  readonly resetSignalled?: boolean;
}

/**
 * Computes the parts a cumulative counter counted between two readings, detecting a wrap at the
 * counter's maximum, a reset to zero and a preset (docs/model/production-count.md, "How deltas are
 * derived"). `width.margin` is the most parts the counter can count between two readings: no
 * rise, rollover or count since a reset beyond it is taken for production.
 *
 * In order:
 * 1. a reset is signalled, `0 ≤ to ≤ margin`, and the counter dropped (`to < from`) or was negative
 *    (a signed counter after a rollover) → `reset`, delta `to`;
 * 2. `from ≤ to ≤ from + margin` → `normal`, delta `to − from`;
 * 3. `to > from + margin`: a negative (wrapped) signed counter back at `0 ≤ to ≤ margin` → `reset`,
 *    delta `to` (−2147483000 → 0 is a reset, not 2147483000 parts); otherwise `jumped` (a preset),
 *    delta 0, which the caller reports;
 * 4. `to < from` and `(max − from) + (to − wrapValue) + 1 ≤ margin` → `rollover`, delta that sum;
 * 5. `to < from` and `0 ≤ to ≤ margin` → `reset`, delta `to` (the count since the reset; parts
 *    between the last reading and the reset are lost);
 * 6. otherwise `decreased`, delta 0, which the caller reports instead of guessing.
 *
 * @param from - the previous reading
 * @param to - the new reading
 * @param width - the counter's maximum, wrap value and margin
 * @param options - whether the machine signalled a reset between the readings
 * @returns the delta and how it was established
 * @example
 * ```ts
 * computeCounterDelta(2147483630, -2147483616, INT32_COUNTER); // { kind: "rollover", delta: 50, … }
 * computeCounterDelta(1200, 1203, INT32_COUNTER); // { kind: "normal", delta: 3, … }
 * computeCounterDelta(1200, 4, INT32_COUNTER); // { kind: "reset", delta: 4, … }
 * computeCounterDelta(-2147483000, 0, INT32_COUNTER); // { kind: "reset", delta: 0, … }
 * computeCounterDelta(1200, 5_000_000, INT32_COUNTER); // { kind: "jumped", delta: 0, … }
 * ```
 */
export function computeCounterDelta(from: number, to: number, width: CounterWidth, options: CounterDeltaOptions = {}): CounterDelta {
  const countSinceReset = to >= 0 && to <= width.margin;
  if (options.resetSignalled === true && countSinceReset && (to < from || from < 0)) return reset(to);
  if (to >= from) {
    if (to - from <= width.margin) return { kind: "normal", delta: to - from, reset: false, rollover: false };
    if (from < 0 && countSinceReset) return reset(to);
    return { kind: "jumped", delta: 0, reset: false, rollover: false };
  }
  if (from <= width.max && to >= width.wrapValue) {
    const wrapped = width.max - from + (to - width.wrapValue) + 1;
    if (wrapped <= width.margin) return { kind: "rollover", delta: wrapped, reset: false, rollover: true };
  }
  if (countSinceReset) return reset(to);
  return { kind: "decreased", delta: 0, reset: false, rollover: false };
}

function reset(to: number): CounterDelta {
  return { kind: "reset", delta: to, reset: true, rollover: false };
}

/**
 * Tells whether a value is a reading a counter of this width can hold.
 *
 * @param value - the raw value from the server
 * @param width - the counter's width
 * @returns true for an integer between `wrapValue` and `max`
 * @example
 * ```ts
 * isCounterValue(42, INT32_COUNTER); // true
 * isCounterValue(2 ** 31, INT32_COUNTER); // false
 * ```
 */
export function isCounterValue(value: unknown, width: CounterWidth): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= Math.min(width.wrapValue, 0) && value <= width.max;
}
