import { createHash } from "node:crypto";
import { MILLWRIGHT_NAMESPACE, uuidV5 } from "@millwright/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inboxKey, RECORD_NAMESPACE, recordId } from "./ids.js";

/**
 * UUIDv5 written from RFC 9562 §5.5 alone, byte by byte, sharing no code with `uuidV5`:
 * SHA-1 over the namespace's 16 bytes and the name's UTF-8, the first 16 bytes of the digest,
 * version 5 in the high nibble of octet 6, variant 0b10 in the two high bits of octet 8.
 */
function referenceUuidV5(namespace: string, name: string): string {
  const ns = Uint8Array.from(namespace.replace(/-/g, "").match(/../g)!.map((h) => parseInt(h, 16)));
  const digest = createHash("sha1").update(ns).update(new TextEncoder().encode(name)).digest();
  const bytes = Array.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const DNS_NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

describe("record ids", () => {
  it("the reference implementation reproduces the RFC 9562 appendix A.4 example", () => {
    expect(referenceUuidV5(DNS_NAMESPACE, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("pins the record namespace to its derivation", () => {
    expect(referenceUuidV5(URL_NAMESPACE, "https://schemas.millwright.dev/v1/records")).toBe(RECORD_NAMESPACE);
    expect(uuidV5(URL_NAMESPACE, "https://schemas.millwright.dev/v1/records")).toBe(RECORD_NAMESPACE);
    expect(RECORD_NAMESPACE).not.toBe(MILLWRIGHT_NAMESPACE);
  });

  it("derives every record id as UUIDv5 of the kind and parts joined with U+0000 (independent implementation, random names)", () => {
    const kinds = fc.constantFrom("inbox" as const, "dead-letter" as const, "dead-letter-raw" as const, "outbox" as const);
    fc.assert(
      fc.property(kinds, fc.array(fc.string({ unit: "binary", maxLength: 40 }), { maxLength: 4 }), (kind, parts) => {
        expect(recordId(kind, parts)).toBe(referenceUuidV5(RECORD_NAMESPACE, [kind, ...parts].join("\u0000")));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 }), (source, id) => {
        expect(inboxKey(source, id)).toBe(referenceUuidV5(RECORD_NAMESPACE, `inbox\u0000${source}\u0000${id}`));
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic and separates parts unambiguously", () => {
    expect(inboxKey("urn:a", "1")).toBe(inboxKey("urn:a", "1"));
    expect(inboxKey("urn:a", "1")).toBe(recordId("inbox", ["urn:a", "1"]));
    expect(recordId("inbox", ["ab", "c"])).not.toBe(recordId("inbox", ["a", "bc"]));
    expect(recordId("outbox", ["urn:a", "1"])).not.toBe(inboxKey("urn:a", "1"));
  });
});
