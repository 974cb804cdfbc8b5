// gs1-keys.ts against GS1's own digital-link.js (npm `digital-link.js`, the reference toolkit of the
// GS1 Digital Link standard): on a generated corpus of keys of every EPC scheme we convert, our
// canonical Digital Link must be the one the reference builds from the same key (its key-qualifier
// order), pass the reference's grammar and check-digit validation, and parse back to the same
// key and values. Check digits come from the reference, not from our gs1CheckDigit.
import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gs1CheckDigit, parseGs1Class, toCanonicalDigitalLink } from "./gs1-keys.js";

/** The part of digital-link.js (CommonJS, untyped) this test uses. */
interface DigitalLinkInstance {
  toWebUriString(): string;
  isValid(): boolean;
  getIdentifier(): Record<string, string>;
  getKeyQualifiers(): Record<string, string>;
}
interface DigitalLinkModule {
  DigitalLink(input: string | { domain: string; identifier: Record<string, string>; keyQualifiers?: Record<string, string>; sortKeyQualifiers?: boolean }): DigitalLinkInstance;
  CheckDigit: { validateCheckDigit(position: number, value: string): boolean };
}
const require = createRequire(import.meta.url);
const reference = require("digital-link.js") as DigitalLinkModule;
// The reference's ABNF grammar check (what its isValid() runs besides the check digit).
const { validateUrl } = require("digital-link.js/src/util.js") as { validateUrl(uri: string): boolean };
const DOMAIN = "https://id.gs1.org";

/** The base with the check digit the reference accepts appended. */
function withReferenceCheckDigit(base: string): string {
  for (let d = 0; d <= 9; d += 1) if (reference.CheckDigit.validateCheckDigit(base.length + 1, `${base}${d}`)) return `${base}${d}`;
  throw new Error(`the reference accepts no check digit for ${base}`);
}

/** An EPC URI field: the characters TDS 2.0 Table A-1 writes escaped, as %XX. */
const toEpc = (value: string): string => value.replace(/["%&/<>?#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** One generated key: its EPC URI, and what the reference should hold (identifier and key qualifiers, unescaped). */
interface Case {
  readonly scheme: string;
  readonly urn: string;
  readonly ai: string;
  readonly key: string;
  readonly qualifiers: Readonly<Record<string, string>>;
}

const digits = (min: number, max = min): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
const company = fc.integer({ min: 6, max: 12 }).chain((n) => digits(n));
// Set 82 without "%" inside values is exercised below; this corpus checks keys with values the
// reference takes as written (unreserved URI characters).
const plain = (max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(..."ABCXYZabcxyz0123456789-._"), minLength: 1, maxLength: max });

function cases(value: (max: number) => fc.Arbitrary<string>): fc.Arbitrary<Case> {
  return fc.oneof(
    fc.tuple(company, value(20)).chain(([cp, serial]) =>
      digits(13 - cp.length).map((ref): Case => ({
        scheme: "sgtin",
        urn: `urn:epc:id:sgtin:${cp}.${ref}.${toEpc(serial)}`,
        ai: "01",
        key: withReferenceCheckDigit(ref.slice(0, 1) + cp + ref.slice(1)),
        qualifiers: { "21": serial },
      })),
    ),
    fc.tuple(company, value(20)).chain(([cp, lot]) =>
      digits(13 - cp.length).map((ref): Case => ({
        scheme: "lgtin",
        urn: `urn:epc:class:lgtin:${cp}.${ref}.${toEpc(lot)}`,
        ai: "01",
        key: withReferenceCheckDigit(ref.slice(0, 1) + cp + ref.slice(1)),
        qualifiers: { "10": lot },
      })),
    ),
    company.chain((cp) =>
      digits(17 - cp.length).map((ref): Case => ({ scheme: "sscc", urn: `urn:epc:id:sscc:${cp}.${ref}`, ai: "00", key: withReferenceCheckDigit(ref.slice(0, 1) + cp + ref.slice(1)), qualifiers: {} })),
    ),
    fc.tuple(company, fc.oneof(fc.constant("0"), value(20))).chain(([cp, ext]) =>
      digits(12 - cp.length).map((ref): Case => ({
        scheme: "sgln",
        urn: `urn:epc:id:sgln:${cp}.${ref}.${toEpc(ext)}`,
        ai: "414",
        key: withReferenceCheckDigit(cp + ref),
        qualifiers: ext === "0" ? {} : { "254": ext },
      })),
    ),
    fc.tuple(company, value(16)).chain(([cp, serial]) =>
      digits(12 - cp.length).map((ref): Case => ({ scheme: "grai", urn: `urn:epc:id:grai:${cp}.${ref}.${toEpc(serial)}`, ai: "8003", key: withReferenceCheckDigit(`0${cp}${ref}`) + serial, qualifiers: {} })),
    ),
    fc.tuple(company, value(18)).map(([cp, ref]): Case => ({ scheme: "giai", urn: `urn:epc:id:giai:${cp}.${toEpc(ref)}`, ai: "8004", key: cp + ref, qualifiers: {} })),
    company.chain((cp) => digits(17 - cp.length).map((ref): Case => ({ scheme: "gsrn", urn: `urn:epc:id:gsrn:${cp}.${ref}`, ai: "8018", key: withReferenceCheckDigit(cp + ref), qualifiers: {} }))),
    company.chain((cp) => digits(17 - cp.length).map((ref): Case => ({ scheme: "gsrnp", urn: `urn:epc:id:gsrnp:${cp}.${ref}`, ai: "8017", key: withReferenceCheckDigit(cp + ref), qualifiers: {} }))),
    fc.tuple(company, value(17)).chain(([cp, serial]) =>
      digits(12 - cp.length).map((ref): Case => ({ scheme: "gdti", urn: `urn:epc:id:gdti:${cp}.${ref}.${toEpc(serial)}`, ai: "253", key: withReferenceCheckDigit(cp + ref) + serial, qualifiers: {} })),
    ),
    fc.tuple(company, digits(1, 12)).chain(([cp, serial]) =>
      digits(12 - cp.length).map((ref): Case => ({ scheme: "sgcn", urn: `urn:epc:id:sgcn:${cp}.${ref}.${serial}`, ai: "255", key: withReferenceCheckDigit(cp + ref) + serial, qualifiers: {} })),
    ),
    company.chain((cp) => digits(16 - cp.length).map((ref): Case => ({ scheme: "gsin", urn: `urn:epc:id:gsin:${cp}.${ref}`, ai: "402", key: withReferenceCheckDigit(cp + ref), qualifiers: {} }))),
    company.chain((cp) => digits(12 - cp.length).map((ref): Case => ({ scheme: "pgln", urn: `urn:epc:id:pgln:${cp}.${ref}`, ai: "417", key: withReferenceCheckDigit(cp + ref), qualifiers: {} }))),
    fc.tuple(company, digits(2), digits(2), value(20)).chain(([cp, piece, total, serial]) =>
      digits(13 - cp.length).map((ref): Case => ({
        scheme: "itip",
        urn: `urn:epc:id:itip:${cp}.${ref}.${piece}.${total}.${toEpc(serial)}`,
        ai: "8006",
        key: withReferenceCheckDigit(ref.slice(0, 1) + cp + ref.slice(1)) + piece + total,
        qualifiers: { "21": serial },
      })),
    ),
  );
}

describe("gs1-keys against GS1's digital-link.js", () => {
  it("the reference's check digits are ours", () => {
    fc.assert(
      // The reference's calculator knows the lengths of the keys: GTIN-8/12/13/14, GLN, GSIN, SSCC, GSRN.
      fc.property(fc.constantFrom(7, 11, 12, 13, 16, 17).chain((n) => digits(n)), (base) => {
        expect(withReferenceCheckDigit(base)).toBe(base + String(gs1CheckDigit(base)));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it("every EPC URI of the corpus converts to the Digital Link the reference builds, which the reference validates and parses back", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(cases(plain), (c) => {
        seen.add(c.scheme);
        const ours = toCanonicalDigitalLink(c.urn);
        const theirs = reference.DigitalLink({ domain: DOMAIN, identifier: { [c.ai]: c.key }, keyQualifiers: { ...c.qualifiers }, sortKeyQualifiers: true });
        expect(ours, c.urn).toBe(theirs.toWebUriString());
        // The reference's grammar of the canonical form (its isValid() also requires a check digit
        // it knows, and so refuses every GIAI, PGLN, GSRNP, ITIP, CPI and GINC).
        expect(validateUrl(ours!), `${c.urn}: the reference's grammar refuses ${ours}`).toBe(true);
        const parsed = reference.DigitalLink(ours!);
        expect(parsed.getIdentifier()).toEqual({ [c.ai]: c.key });
        expect(parsed.getKeyQualifiers()).toEqual(c.qualifiers);
      }),
      { numRuns: 650, seed: 18_7 },
    );
    expect([...seen].sort()).toEqual(["gdti", "giai", "grai", "gsin", "gsrn", "gsrnp", "itip", "lgtin", "pgln", "sgcn", "sgln", "sgtin", "sscc"]);
  }, 60_000);

  it("the Digital Links the reference builds on other hosts, with custom paths and qualifiers in any order, normalise to the canonical link", () => {
    fc.assert(
      fc.property(cases(plain), fc.constantFrom("https://example.com", "https://brand.example/products/x", "http://id.example.org"), (c, domain) => {
        const built = reference.DigitalLink({ domain, identifier: { [c.ai]: c.key }, keyQualifiers: { ...c.qualifiers }, sortKeyQualifiers: true }).toWebUriString();
        expect(toCanonicalDigitalLink(built), built).toBe(toCanonicalDigitalLink(c.urn));
      }),
      { numRuns: 1000, seed: 18_8 },
    );
  }, 60_000);

  it("serials and lots with every character of set 82: the reference parses our link back to the unescaped value", () => {
    const set82 = (max: number): fc.Arbitrary<string> =>
      fc.string({ unit: fc.constantFrom(...`!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`), minLength: 1, maxLength: Math.min(max, 16) });
    fc.assert(
      fc.property(cases(set82), (c) => {
        const ours = toCanonicalDigitalLink(c.urn);
        expect(ours, c.urn).toBeDefined();
        const parsed = reference.DigitalLink(ours!);
        const decoded = Object.fromEntries(Object.entries(parsed.getKeyQualifiers()).map(([ai, value]) => [ai, decodeURIComponent(value)]));
        expect(decoded).toEqual(c.qualifiers);
        expect(decodeURIComponent(parsed.getIdentifier()[c.ai] ?? "")).toBe(c.key);
        if (c.ai === "01") expect(parseGs1Class(ours!)).toMatchObject({ gtin: c.key });
      }),
      { numRuns: 500, seed: 18_9 },
    );
  }, 60_000);

  // Where we and the reference differ, on purpose; each difference is pinned so that a change shows.
  it("differences: the reference's grammar refuses serials with \" ' ; =, which we write as GS1's hash reference does", () => {
    const set82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
    const refused = [...set82].filter((c) => {
      const ours = toCanonicalDigitalLink(`urn:epc:id:sgtin:4012345.011111.a${toEpc(c)}b`);
      return ours === undefined || !validateUrl(ours);
    });
    expect(refused).toEqual(['"', "'", ";", "="]);
    expect(toCanonicalDigitalLink("urn:epc:id:sgtin:4012345.011111.a%22b")).toBe("https://id.gs1.org/01/04012345111118/21/a%22b");
    expect(toCanonicalDigitalLink("urn:epc:id:sgtin:4012345.011111.a'b")).toBe("https://id.gs1.org/01/04012345111118/21/a'b");
  });

  it("differences: we read what the reference refuses (qualifiers out of order, short names); it reads GMN and SRIN links, and so do we", () => {
    const outOfOrder = "https://id.gs1.org/01/04012345111118/21/S1/10/L1";
    expect(validateUrl(outOfOrder)).toBe(false);
    expect(toCanonicalDigitalLink(outOfOrder)).toBe("https://id.gs1.org/01/04012345111118/21/S1");
    const shortNames = "https://example.com/gtin/04012345111118/ser/S1";
    expect(() => reference.DigitalLink(shortNames)).toThrow("Must contain at least the identifier");
    expect(toCanonicalDigitalLink(shortNames)).toBe("https://id.gs1.org/01/04012345111118/21/S1");
    for (const link of ["https://id.gs1.org/8018/040123450000000008/8019/12", "https://id.gs1.org/8013/40123451234567890"]) {
      expect(validateUrl(link)).toBe(true);
      expect(toCanonicalDigitalLink(link)).toBe(link);
    }
    expect(toCanonicalDigitalLink("https://brand.example/p/8018/040123450000000008/8019/12?x=1")).toBe("https://id.gs1.org/8018/040123450000000008/8019/12");
  });
});
