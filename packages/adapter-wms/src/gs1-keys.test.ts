import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gs1CheckDigit, parseGs1Class, toCanonicalDigitalLink, toLotClass } from "./gs1-keys.js";

describe("GS1 keys", () => {
  it("computes GS1 check digits", () => {
    expect(gs1CheckDigit("0401234512345")).toBe(6);
    expect(gs1CheckDigit("401234500011")).toBe(5);
    expect(gs1CheckDigit("04012345000000333")).toBe(8);
  });

  it.each([
    ["urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"],
    ["urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"],
    ["urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987"],
    ["urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"],
    ["urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"],
    ["urn:epc:id:pgln:4012345.00000", "https://id.gs1.org/417/4012345000009"],
    ["https://example.com/shop/gtin/4012345123456/lot/L1/ser/7?x=1", "https://id.gs1.org/01/04012345123456/21/7"],
    ["https://id.gs1.de/00/040123451111111110", "https://id.gs1.org/00/040123451111111110"],
    ["https://id.gs1.org/01/04012345123456/22/V1/10/L1", "https://id.gs1.org/01/04012345123456/10/L1"],
  ])("%s → %s", (uri, dl) => {
    expect(toCanonicalDigitalLink(uri)).toBe(dl);
  });

  // EPC URIs escape some serial characters (TDS 2.0 Table A-1); the length limits count characters,
  // not escapes, and the Digital Link percent-encodes its own set (GS1 Digital Link 1.2 table 7-1).
  const serial17 = "ABCDEFGHIJKLMNOPQ";
  it.each([
    ["urn:epc:id:sgtin:0614141.107346.%2F2018", "https://id.gs1.org/01/10614141073464/21/%2F2018"],
    [`urn:epc:id:sgtin:0614141.107346.${serial17}%2F%25%26`, `https://id.gs1.org/01/10614141073464/21/${serial17}%2F%25%26`],
    ["urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"],
    ["urn:epc:id:sgtin:0614141.107346.%2f%41'", "https://id.gs1.org/01/10614141073464/21/%2FA'"],
    ["urn:epc:class:lgtin:0614141.107346.%2F2018", "https://id.gs1.org/01/10614141073464/10/%2F2018"],
    [`urn:epc:class:lgtin:0614141.107346.${serial17}%3C%3E%3F`, `https://id.gs1.org/01/10614141073464/10/${serial17}%3C%3E%3F`],
    ["urn:epc:id:sgln:0614141.00001.%2F1", "https://id.gs1.org/414/0614141000012/254/%2F1"],
    ["urn:epc:id:grai:0614141.12345.ABCDEFGHIJKLM%2F%26%25", "https://id.gs1.org/8003/00614141123452ABCDEFGHIJKLM%2F%26%25"],
    ["urn:epc:id:giai:0614141.ABCDEFGHIJKLMNOPQRST%2F%26%25", "https://id.gs1.org/8004/0614141ABCDEFGHIJKLMNOPQRST%2F%26%25"],
    ["urn:epc:id:ginc:0614141.ABCDEFGHIJKLMNOPQRST%2F%26%25", "https://id.gs1.org/401/0614141ABCDEFGHIJKLMNOPQRST%2F%26%25"],
    ["urn:epc:id:gdti:0614141.12345.ABCDEFGHIJKLMN%2F%26%25", "https://id.gs1.org/253/0614141123452ABCDEFGHIJKLMN%2F%26%25"],
    ["urn:epc:id:cpi:0614141.ABCDEFGHIJKLMNOPQRSTU%23%2F.5", "https://id.gs1.org/8010/0614141ABCDEFGHIJKLMNOPQRSTU%23%2F/8011/5"],
    ["urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234"],
    ["urn:epc:idpat:cpi:0614141.A%2D%23.*", "https://id.gs1.org/8010/0614141A-%23"],
    [`urn:epc:id:itip:0614141.107346.01.02.${serial17}%2F%26%25`, `https://id.gs1.org/8006/106141410734640102/21/${serial17}%2F%26%25`],
    [`urn:epc:id:upui:0614141.107346.${serial17}ABCDEFGH%2F%26%25`, `https://id.gs1.org/01/10614141073464/235/${serial17}ABCDEFGH%2F%26%25`],
  ])("%s → %s (escapes count as one character)", (uri, dl) => {
    expect(toCanonicalDigitalLink(uri)).toBe(dl);
  });

  it.each([
    [`urn:epc:id:sgtin:0614141.107346.${serial17}X%2F%25%26`, "21 characters"],
    [`urn:epc:class:lgtin:0614141.107346.${serial17}X%2F%25%26`, "21 characters"],
    ["urn:epc:id:sgln:0614141.00001.ABCDEFGHIJKLMNOPQRST%2F", "21 characters"],
    ["urn:epc:id:grai:0614141.12345.ABCDEFGHIJKLMN%2F%26%25", "17 characters"],
    ["urn:epc:id:giai:0614141.ABCDEFGHIJKLMNOPQRSTU%2F%26%25", "31 characters with the company prefix"],
    ["urn:epc:id:ginc:0614141.ABCDEFGHIJKLMNOPQRSTU%2F%26%25", "31 characters with the company prefix"],
    ["urn:epc:id:gdti:0614141.12345.ABCDEFGHIJKLMNO%2F%26%25", "18 characters"],
    ["urn:epc:id:cpi:0614141.ABCDEFGHIJKLMNOPQRSTUV%23%2F.5", "31 characters with the company prefix"],
    [`urn:epc:id:itip:0614141.107346.01.02.${serial17}X%2F%26%25`, "21 characters"],
    [`urn:epc:id:upui:0614141.107346.${serial17}ABCDEFGHI%2F%26%25`, "29 characters"],
    ["urn:epc:id:sgtin:0614141.107346.A%20B", "an escaped space, outside GS1's character set 82"],
    ["urn:epc:id:sgtin:0614141.107346.A%2", "a truncated escape"],
    ["urn:epc:id:sgtin:0614141.107346.A%ZZ", "an escape that is not hexadecimal"],
    ["urn:epc:id:cpi:0614141.A%2A.5", "an escaped character outside the CPI set"],
  ])("%s is not a GS1 key: %s", (uri) => {
    expect(toCanonicalDigitalLink(uri)).toBeUndefined();
  });

  it("reads the unescaped serial and lot of escaped EPC URIs", () => {
    expect(parseGs1Class("urn:epc:id:sgtin:0614141.107346.%2F2018")).toEqual({ gtin: "10614141073464", serial: "/2018" });
    expect(parseGs1Class("urn:epc:class:lgtin:0614141.107346.L%261!")).toEqual({ gtin: "10614141073464", lot: "L&1!" });
  });

  it("agrees with the reference's Digital Link checks: a value outside the set or a long variant path is kept as written", () => {
    // A lot that cannot appear in a canonical Digital Link makes the whole URI non-canonical,
    // even when the serial beside it would make the lot redundant.
    expect(toCanonicalDigitalLink("https://example.com/01/04012345123456/10/A%2F1/21/7")).toBeUndefined();
    expect(toCanonicalDigitalLink("https://example.com/01/04012345123456/22/V1/21/7")).toBe("https://id.gs1.org/01/04012345123456/21/7");
    expect(toCanonicalDigitalLink("https://example.com/01/04012345123456/22/V1/21/ABCDEFGHIJKLMNOPQRST")).toBeUndefined();
  });

  it("builds lot classes with the Digital Link percent-encoding, as the EPC URI of the same lot converts", () => {
    expect(toLotClass("10614141073464", "L&1!(2)")).toBe("https://id.gs1.org/01/10614141073464/10/L%261%21%282%29");
    expect(toLotClass("10614141073464", "L&1!(2)")).toBe(toCanonicalDigitalLink("urn:epc:class:lgtin:0614141.107346.L%261!(2)"));
    expect(toLotClass("10614141073464", "a'b;c=d")).toBe("https://id.gs1.org/01/10614141073464/10/a'b;c=d");
  });

  it("leaves URIs without a GS1 key alone", () => {
    expect(toCanonicalDigitalLink("geo:50.9,6.9")).toBeUndefined();
    expect(toCanonicalDigitalLink("http://www.opengis.net/def/crs/EPSG/0/27700")).toBeUndefined();
    expect(toCanonicalDigitalLink("urn:epc:id:sgtin:123.1.1")).toBeUndefined();
  });

  it("splits classes into GTIN, lot and serial, keeping the lot beside a serial", () => {
    expect(parseGs1Class("https://id.gs1.org/01/04012345123456/10/L%2F1/21/9")).toEqual({ gtin: "04012345123456", lot: "L/1", serial: "9" });
    expect(parseGs1Class("urn:epc:id:sscc:4012345.0000000333")).toBeUndefined();
    expect(parseGs1Class(toLotClass("04012345123456", "B 1"))).toEqual({ gtin: "04012345123456", lot: "B 1" });
  });

  it("never throws", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom("urn:epc:id:", "urn:epc:class:lgtin:", "https://id.gs1.org/01/").chain((p) => fc.string().map((s) => p + s))), (uri) => {
        toCanonicalDigitalLink(uri);
        parseGs1Class(uri);
      }),
      { numRuns: 500 },
    );
  });
});
