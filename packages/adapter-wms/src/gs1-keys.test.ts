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
