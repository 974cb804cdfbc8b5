import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { issuesFromAjv } from "./ajv-issues.js";
import { validateWorkOrder } from "./generated/validators.js";

/** The errors ajv reports for a work order with these operations (each a bad one or a repeat). */
function errorsOf(operations: unknown[]) {
  expect(validateWorkOrder({ orderId: "1", operations, colour: "red" })).toBe(false);
  return [...(validateWorkOrder.errors ?? [])];
}

const badOperation = fc.oneof(
  fc.constant({}),
  fc.record({ operationId: fc.oneof(fc.constant(""), fc.integer(), fc.constant("0010")), extra: fc.boolean() }, { requiredKeys: ["operationId"] }),
  fc.constant(null),
  fc.string({ maxLength: 3 }),
);

describe("issuesFromAjv", () => {
  test("the first `limit` issues and the total are those of the full conversion, for any limit", () => {
    fc.assert(
      fc.property(fc.array(badOperation, { minLength: 1, maxLength: 40 }), fc.nat({ max: 60 }), (operations, limit) => {
        const errors = errorsOf(operations);
        const full = issuesFromAjv(errors, Number.POSITIVE_INFINITY);
        const cut = issuesFromAjv(errors, limit);
        expect(full.total).toBe(full.issues.length);
        expect(cut.total).toBe(full.total);
        expect(cut.issues).toEqual(full.issues.slice(0, limit));
      }),
      { numRuns: 200 },
    );
  });

  test("200,000 bad items: the issues beyond the limit are counted, not built", () => {
    // Each bad item adds the same issues: the total for 200,000 follows from those for one and two.
    const one = issuesFromAjv(errorsOf([{}]), Number.POSITIVE_INFINITY).total;
    const perItem = issuesFromAjv(errorsOf([{}, {}]), Number.POSITIVE_INFINITY).total - one;
    const errors = errorsOf(new Array(200_000).fill({}));
    const started = performance.now();
    const { issues, total } = issuesFromAjv(errors, 100);
    const elapsed = performance.now() - started;
    expect(issues).toHaveLength(100);
    expect(perItem).toBeGreaterThan(0);
    // … plus one for the array itself: operations has maxItems 999.
    expect(total).toBe(one + 199_999 * perItem + 1);
    // Not a speed test: a guard that counting did not turn into building (that took over 1 s quiet).
    expect(elapsed).toBeLessThan(5_000);
  }, 20_000);
});
