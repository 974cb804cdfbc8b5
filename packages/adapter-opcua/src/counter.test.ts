import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INT32_COUNTER, UINT32_COUNTER, type CounterWidth } from "./config.js";
import { computeCounterDelta, isCounterValue } from "./counter.js";

const wrap32 = (n: number): number => n | 0;

describe("computeCounterDelta", () => {
  it("counts a normal increase", () => {
    expect(computeCounterDelta(1200, 1203, INT32_COUNTER)).toEqual({ kind: "normal", delta: 3, reset: false, rollover: false });
  });

  it("detects the documented Int32 rollover example", () => {
    expect(computeCounterDelta(2147483630, -2147483616, INT32_COUNTER)).toEqual({ kind: "rollover", delta: 50, reset: false, rollover: true });
  });

  it("detects a rollover exactly at 2^31−1", () => {
    expect(computeCounterDelta(2147483647, -2147483648, INT32_COUNTER).delta).toBe(1);
  });

  it("detects a UInt32 rollover to 0", () => {
    expect(computeCounterDelta(4294967290, 4, UINT32_COUNTER)).toEqual({ kind: "rollover", delta: 10, reset: false, rollover: true });
  });

  it("treats a drop to a small value as a reset", () => {
    expect(computeCounterDelta(1200, 4, INT32_COUNTER)).toEqual({ kind: "reset", delta: 4, reset: true, rollover: false });
    expect(computeCounterDelta(2147483640, 0, INT32_COUNTER).kind).toBe("reset");
  });

  it("refuses to guess an unexplained decrease", () => {
    expect(computeCounterDelta(10, -5, INT32_COUNTER)).toEqual({ kind: "decreased", delta: 0, reset: false, rollover: false });
  });

  it("adds up to the parts made for any Int32 run with wraps (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), fc.array(fc.integer({ min: 0, max: 500_000 }), { maxLength: 50 }), (start, steps) => {
        let value = start;
        let total = 0;
        for (const step of steps) {
          const next = wrap32(value + step);
          const d = computeCounterDelta(value, next, INT32_COUNTER);
          expect(d.kind).not.toBe("decreased");
          total += d.delta;
          value = next;
        }
        expect(total).toBe(steps.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it("never throws and never returns a negative delta (property)", () => {
    const width = fc.record<CounterWidth>({ max: fc.integer({ min: 1, max: 4294967295 }), wrapValue: fc.integer({ min: -2147483648, max: 0 }), margin: fc.integer({ min: 0, max: 10_000_000 }) });
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 4294967295 }), fc.integer({ min: -2147483648, max: 4294967295 }), width, (from, to, w) => {
        const d = computeCounterDelta(from, to, w);
        expect(d.delta).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(d.delta)).toBe(true);
      }),
    );
  });
});

describe("isCounterValue", () => {
  it("accepts integers of the counter's range only", () => {
    expect(isCounterValue(-2147483648, INT32_COUNTER)).toBe(true);
    expect(isCounterValue(2147483648, INT32_COUNTER)).toBe(false);
    expect(isCounterValue(-1, UINT32_COUNTER)).toBe(false);
    expect(isCounterValue(1.5, INT32_COUNTER)).toBe(false);
    expect(isCounterValue("3", INT32_COUNTER)).toBe(false);
  });
});
