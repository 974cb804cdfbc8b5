import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MILLWRIGHT_NAMESPACE, uuidV5 } from "./uuid.js";

const DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

/** UUIDv5 as node:crypto's SHA-1 computes it. */
function reference(namespace: string, name: string): string {
  const digest = createHash("sha1").update(Buffer.from(namespace.replace(/-/g, ""), "hex")).update(name, "utf8").digest();
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe("uuidV5", () => {
  it("matches the RFC 9562 Appendix A.4 vector (DNS namespace, www.example.com)", () => {
    expect(uuidV5(DNS, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("sets version 5 and the RFC variant", () => {
    for (const name of ["", "a", "é😀", "x".repeat(5000)]) {
      expect(uuidV5(URL, name)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it("hashes the name as UTF-8 and accepts an upper-case namespace", () => {
    expect(uuidV5(DNS.toUpperCase(), "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
    expect(uuidV5(URL, "é")).not.toBe(uuidV5(URL, "\u00e9".normalize("NFD")));
  });

  it("hashes like node:crypto's SHA-1 for any name, across the block boundaries and the long-name path", () => {
    for (let length = 0; length <= 1100; length++) expect(uuidV5(URL, "x".repeat(length))).toBe(reference(URL, "x".repeat(length)));
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), fc.uuid(), (name, namespace) => {
        expect(uuidV5(namespace, name)).toBe(reference(namespace, name));
      }),
      { numRuns: 500 },
    );
  });

  it("reuses the first block's hash state only for the same namespace and the same first 48 characters", () => {
    // Event-id-like names: long shared heads, edits inside and past the first block, namespaces alternating.
    const head = "dev.millwright.workorder.released.v1\u0000urn:millwright:sap:S4PCLNT100\u0000";
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(URL, DNS, MILLWRIGHT_NAMESPACE), fc.nat(80), fc.string({ maxLength: 30 })), { maxLength: 25 }), (calls) => {
        for (const [namespace, at, edit] of calls) {
          const name = head.slice(0, at) + edit + head.slice(at);
          expect(uuidV5(namespace, name)).toBe(reference(namespace, name));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("publishes the Millwright namespace as UUIDv5 of its URL", () => {
    expect(uuidV5(URL, "https://schemas.millwright.dev/v1/events")).toBe(MILLWRIGHT_NAMESPACE);
  });

  it("throws on a namespace that is not a UUID (a programmer error)", () => {
    expect(() => uuidV5("nope", "x")).toThrowErrorMatchingInlineSnapshot(`[TypeError: uuidV5: namespace "nope" is not a UUID]`);
  });
});
