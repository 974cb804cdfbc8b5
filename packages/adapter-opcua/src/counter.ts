import type { CounterWidth } from "./config.js";

/** How a counter moved between two readings. */
export type CounterDelta =
  | { readonly kind: "normal"; readonly delta: number; readonly reset: false; readonly rollover: false }
  | { readonly kind: "rollover"; readonly delta: number; readonly reset: false; readonly rollover: true }
  | { readonly kind: "reset"; readonly delta: number; readonly reset: true; readonly rollover: false }
  | { readonly kind: "decreased"; readonly delta: 0; readonly reset: false; readonly rollover: false };

/**
 * Computes the parts a cumulative counter counted between two readings, detecting a wrap at the
 * counter's maximum and a reset to zero (docs/model/production-count.md, "How deltas are derived").
 *
 * A decrease is a rollover when `from` lies within `width.margin` below `width.max` and `to`
 * within `width.margin` above `width.wrapValue`; otherwise a reset when `to ≥ 0` (the count
 * since the reset, parts between the last reading and the reset are lost); otherwise
 * `decreased`, which the caller reports instead of guessing.
 *
 * @param from - the previous reading
 * @param to - the new reading
 * @param width - the counter's maximum, wrap value and rollover margin
 * @returns the delta and how it was established
 * @example
 * ```ts
 * computeCounterDelta(2147483630, -2147483616, INT32_COUNTER); // { kind: "rollover", delta: 50, … }
 * computeCounterDelta(1200, 1203, INT32_COUNTER); // { kind: "normal", delta: 3, … }
 * computeCounterDelta(1200, 4, INT32_COUNTER); // { kind: "reset", delta: 4, … }
 * ```
 */
export function computeCounterDelta(from: number, to: number, width: CounterWidth): CounterDelta {
  if (to >= from) return { kind: "normal", delta: to - from, reset: false, rollover: false };
  if (from <= width.max && width.max - from <= width.margin && to - width.wrapValue <= width.margin && to >= width.wrapValue) {
    return { kind: "rollover", delta: width.max - from + (to - width.wrapValue) + 1, reset: false, rollover: true };
  }
  if (to >= 0) return { kind: "reset", delta: to, reset: true, rollover: false };
  return { kind: "decreased", delta: 0, reset: false, rollover: false };
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
