import { describe, expect, it } from "vitest";
import { backoffDelay, createRetryPolicy, DEFAULT_RETRY_POLICY, permanent, retryable } from "./retry.js";

describe("backoffDelay", () => {
  it("is full jitter under an exponential cap", () => {
    const policy = createRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 3, () => 0.5)).toBe(200);
  });

  it("rejects a policy that cannot work (a programmer error)", () => {
    expect(() => createRetryPolicy({ maxAttempts: 0 })).toThrowErrorMatchingInlineSnapshot(`[RangeError: createRetryPolicy: maxAttempts is an integer ≥ 1, got 0]`);
    expect(() => createRetryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
  });
});

describe("handler errors", () => {
  it("says whether a retry can help", () => {
    expect(retryable("SAP answered 503")).toEqual({ code: "retryable", message: "SAP answered 503", retryable: true });
    expect(permanent("bad unit", new Error("x"))).toMatchObject({ code: "permanent", retryable: false });
  });
});
