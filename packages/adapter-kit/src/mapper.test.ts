import { err, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { issue, type Issue } from "./issue.js";
import { isPlainData, ReaderFailure, runMapper } from "./mapper.js";

const options = { toError: (issues: readonly [Issue, ...Issue[]]) => ({ issues }), unreadableCode: "invalid_envelope" };

describe("runMapper", () => {
  it("gives the mapper's own Result unchanged", () => {
    expect(runMapper({ input: {}, ...options }, () => ok(1))._unsafeUnwrap()).toBe(1);
    expect(runMapper({ input: {}, ...options }, () => err({ issues: [] as unknown as [Issue] }))._unsafeUnwrapErr().issues).toEqual([]);
  });

  it("turns a reader failure into an error with every issue", () => {
    const found: [Issue, Issue] = [issue("invalid_event", "/type", 7, "an event type is a string"), issue("missing_property", "/eventTime", undefined, "required")];
    const result = runMapper({ input: { type: 7 }, ...options }, () => {
      throw new ReaderFailure(found);
    });
    expect(result._unsafeUnwrapErr().issues).toEqual(found);
  });

  it("lets a programming error in the mapper surface: it is not reported as bad input", () => {
    const input = { d: { ManufacturingOrder: "1000123" } };
    expect(() =>
      runMapper({ input, ...options }, () => {
        const rows = (input.d as Record<string, unknown>)["to_Operations"] as { results: unknown[] };
        return ok(rows.results.length);
      }),
    ).toThrow(TypeError);
    expect(() => runMapper({ input, ...options }, () => { throw new RangeError("bug"); })).toThrow("bug");
  });

  it("turns an input that cannot be read (a throwing getter, a revoked proxy) into one unreadable issue", () => {
    const input = {};
    Object.defineProperty(input, "d", { enumerable: true, get: () => { throw new RangeError("boom"); } });
    const result = runMapper({ input, ...options }, () => ok((input as Record<string, unknown>)["d"]));
    expect(result._unsafeUnwrapErr().issues[0].message).toMatchInlineSnapshot(`"(root) is missing: the payload could not be read as JSON data (RangeError)"`);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(runMapper({ input: proxy, ...options }, () => ok(Object.keys(proxy)))._unsafeUnwrapErr().issues[0].code).toBe("invalid_envelope");
  });
});

describe("isPlainData", () => {
  it("accepts JSON data and refuses getters, proxies' traps that throw and cycles", () => {
    expect(isPlainData({ d: { results: [1, "a", null, { b: true }] } })).toBe(true);
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(isPlainData(cycle)).toBe(false);
    expect(isPlainData({ get x() { return 1; } })).toBe(false);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(isPlainData([proxy])).toBe(false);
  });
});
