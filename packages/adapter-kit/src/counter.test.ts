import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeCounterDelta, INT32_COUNTER, isCounterValue, UINT32_COUNTER, type CounterWidth } from "./counter.js";

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

describe("computeCounterDelta: resets, presets and the margin", () => {
  it("recognises the reset of a signed counter that is negative after a rollover", () => {
    expect(computeCounterDelta(-2147483000, 0, INT32_COUNTER)).toEqual({ kind: "reset", delta: 0, reset: true, rollover: false });
    expect(computeCounterDelta(-2147483000, 12, INT32_COUNTER)).toEqual({ kind: "reset", delta: 12, reset: true, rollover: false });
  });

  it("counts a signed counter rising through zero as production", () => {
    expect(computeCounterDelta(-5, 3, INT32_COUNTER)).toEqual({ kind: "normal", delta: 8, reset: false, rollover: false });
  });

  it("does not count a preset (a rise beyond the margin) and says so", () => {
    expect(computeCounterDelta(1200, 5_000_000, INT32_COUNTER)).toEqual({ kind: "jumped", delta: 0, reset: false, rollover: false });
    expect(computeCounterDelta(-2147483000, 2_000_000, INT32_COUNTER)).toEqual({ kind: "jumped", delta: 0, reset: false, rollover: false });
    expect(computeCounterDelta(1200, 1200 + INT32_COUNTER.margin, INT32_COUNTER).delta).toBe(INT32_COUNTER.margin);
  });

  it("does not take a drop to a value beyond the margin for a reset", () => {
    expect(computeCounterDelta(5_000_000, 4_000_000, INT32_COUNTER)).toEqual({ kind: "decreased", delta: 0, reset: false, rollover: false });
  });

  it("takes a drop with a signalled reset (PackML Resetting) for a reset, even where it looks like a rollover", () => {
    expect(computeCounterDelta(4294967290, 4, UINT32_COUNTER).kind).toBe("rollover");
    expect(computeCounterDelta(4294967290, 4, UINT32_COUNTER, { resetSignalled: true })).toEqual({ kind: "reset", delta: 4, reset: true, rollover: false });
    expect(computeCounterDelta(-5, 3, INT32_COUNTER, { resetSignalled: true })).toEqual({ kind: "reset", delta: 3, reset: true, rollover: false });
    // A rise is production whatever the machine's state.
    expect(computeCounterDelta(100, 150, INT32_COUNTER, { resetSignalled: true })).toEqual({ kind: "normal", delta: 50, reset: false, rollover: false });
  });

  it("never counts more than the margin in one step (property)", () => {
    const width = fc.record<CounterWidth>({ max: fc.integer({ min: 1000, max: 4294967295 }), wrapValue: fc.integer({ min: -2147483648, max: 0 }), margin: fc.integer({ min: 1, max: 400 }) });
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 4294967295 }), fc.integer({ min: -2147483648, max: 4294967295 }), width, fc.boolean(), (from, to, w, resetSignalled) => {
        const d = computeCounterDelta(from, to, w, { resetSignalled });
        expect(d.delta).toBeLessThanOrEqual(w.margin);
        if (d.kind === "jumped" || d.kind === "decreased") expect(d.delta).toBe(0);
      }),
    );
  });

  type Op = { readonly kind: "produce"; readonly n: number } | { readonly kind: "reset"; readonly n: number; readonly signalled: boolean } | { readonly kind: "preset"; readonly by: number };
  const widths: readonly [string, CounterWidth][] = [
    ["Int32", INT32_COUNTER],
    ["UInt32", UINT32_COUNTER],
    ["signed 16-bit", { max: 32767, wrapValue: -32768, margin: 500 }],
    ["unsigned 16-bit", { max: 65535, wrapValue: 0, margin: 500 }],
  ];

  for (const [name, w] of widths) {
    it(`never counts a part twice or loses one over production, rollovers, resets and presets of a ${name} counter; a jump counts nothing (property)`, () => {
      const range = w.max - w.wrapValue + 1;
      const wrapAdd = (value: number, n: number): number => ((((value - w.wrapValue + n) % range) + range) % range) + w.wrapValue;
      const op: fc.Arbitrary<Op> = fc.oneof(
        { weight: 6, arbitrary: fc.record({ kind: fc.constant("produce" as const), n: fc.integer({ min: 0, max: w.margin }) }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant("reset" as const), n: fc.integer({ min: 0, max: Math.min(w.margin, 300) }), signalled: fc.boolean() }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant("preset" as const), by: fc.integer({ min: w.margin + 1, max: Math.floor(range / 2) }) }) },
      );
      const start = fc.oneof(fc.integer({ min: w.wrapValue, max: w.max }), fc.integer({ min: Math.max(w.wrapValue, w.max - 3 * w.margin), max: w.max }));
      fc.assert(
        fc.property(start, fc.array(op, { maxLength: 60 }), (first, ops) => {
          let value = first;
          let made = 0;
          let counted = 0;
          for (const o of ops) {
            let next: number;
            let resetSignalled = false;
            if (o.kind === "produce") {
              next = wrapAdd(value, o.n);
              made += o.n;
            } else if (o.kind === "reset") {
              // Only resets the counter can tell from production: a drop, or a negative counter
              // coming back to a small value (with the machine's reset signal, or from far away).
              const looksLikeRollover = w.max - value + (o.n - w.wrapValue) + 1 <= w.margin;
              const detectable = o.signalled ? o.n < value || value < 0 : (o.n < value && !looksLikeRollover) || (value < 0 && o.n - value > w.margin);
              if (!detectable) continue;
              next = o.n;
              made += o.n;
              resetSignalled = o.signalled;
            } else {
              next = value + o.by;
              if (next > w.max || (value < 0 && next >= 0 && next <= w.margin)) continue;
            }
            const d = computeCounterDelta(value, next, w, { resetSignalled });
            if (o.kind === "preset") expect(d).toEqual({ kind: "jumped", delta: 0, reset: false, rollover: false });
            if (o.kind === "reset") expect(d.kind).toBe("reset");
            expect(d.kind).not.toBe("decreased");
            counted += d.delta;
            value = next;
          }
          expect(counted).toBe(made);
        }),
        { numRuns: 300 },
      );
    });
  }
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
