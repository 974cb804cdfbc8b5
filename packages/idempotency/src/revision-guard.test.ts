import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideRevision, entityKeyOf } from "./revision-guard.js";

describe("decideRevision", () => {
  const input = (revision: string, fingerprint = "f1") => ({ entityKey: "wo/1", revision, fingerprint });

  it("gives every verdict with its reason", () => {
    expect(decideRevision(undefined, input("3"))).toEqual({ verdict: "applied", entityKey: "wo/1", revision: "3", previous: undefined });
    expect(decideRevision({ revision: "3", fingerprint: "f1" }, input("10")).verdict).toBe("applied");
    expect(decideRevision({ revision: "10", fingerprint: "f1" }, input("9"))).toMatchInlineSnapshot(`
      {
        "current": "10",
        "entityKey": "wo/1",
        "reason": "revision 9 is older than the applied revision 10",
        "revision": "9",
        "verdict": "stale",
      }
    `);
    expect(decideRevision({ revision: "10", fingerprint: "f1" }, input("10")).verdict).toBe("duplicate");
    expect(decideRevision({ revision: "10", fingerprint: "f1" }, input("10", "f2"))).toMatchObject({
      verdict: "conflict",
      reason: "revision 10 was already applied with different content (fingerprint f1, now f2)",
    });
  });

  it("compares numerically, padded or not", () => {
    expect(decideRevision({ revision: "00000000000000000009", fingerprint: "x" }, input("10")).verdict).toBe("applied");
    const revision = fc.bigInt({ min: 0n, max: 10n ** 20n - 1n });
    fc.assert(
      // Equal revisions are drawn on purpose (a chance in three): same content is a duplicate.
      fc.property(revision, fc.oneof(revision, fc.constant(undefined)), (a, maybeB) => {
        const b = maybeB ?? a;
        const verdict = decideRevision({ revision: a.toString().padStart(20, "0"), fingerprint: "f1" }, input(b.toString())).verdict;
        expect(verdict).toBe(b > a ? "applied" : b < a ? "stale" : "duplicate");
      }),
    );
  });

  it("throws on a revision that is not digits (a programmer error)", () => {
    expect(() => decideRevision(undefined, input("1.5"))).toThrowErrorMatchingInlineSnapshot(`[TypeError: decideRevision: revision "1.5" is not a digit string of up to 20 digits]`);
  });
});

describe("entityKeyOf", () => {
  it("keys by source, entity and subject", () => {
    const key = entityKeyOf({ source: "urn:s", type: "dev.millwright.workorder.released.v1", subject: "1000123" });
    expect(key).toBe('["urn:s","dev.millwright.workorder","1000123"]');
    expect(entityKeyOf({ source: "urn:s", type: "dev.millwright.workorder.completed.v1", subject: "1000123" })).toBe(key);
    expect(entityKeyOf({ source: "urn:s", type: "dev.millwright.workorder.completed.v1" })).toBeUndefined();
  });
});
