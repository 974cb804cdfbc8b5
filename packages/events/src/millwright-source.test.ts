import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sampleJson } from "../test/fixtures.js";
import { parseMillwrightSource, toMillwrightSource } from "./millwright-source.js";
import { parseEvent } from "./parse-event.js";

const system = fc.stringMatching(/^[a-z0-9]{1,8}$/);
// Instances as producers write them: URI characters, colons included, sometimes percent-encoded.
const instance = fc.oneof(fc.constant(""), fc.stringMatching(/^(?:[A-Za-z0-9\-._~:@!$&'()*+,;=]|%[0-9A-F]{2}){1,24}$/));

describe("Millwright sources", () => {
  it("splits urn:millwright:<system>:<instance>, the instance as written", () => {
    expect(parseMillwrightSource("urn:millwright:sap:S4PCLNT100")).toEqual({ system: "sap", instance: "S4PCLNT100" });
    expect(parseMillwrightSource("urn:millwright:mes:line-fab")).toEqual({ system: "mes", instance: "line-fab" });
    expect(parseMillwrightSource("urn:millwright:opcua:opc.tcp://line-4:4840")).toEqual({ system: "opcua", instance: "opc.tcp://line-4:4840" });
    expect(parseMillwrightSource("urn:millwright:wms")).toEqual({ system: "wms", instance: "" });
    expect(parseMillwrightSource("urn:millwright:wms:")).toEqual({ system: "wms", instance: "" });
  });

  it("is not a Millwright source without a lower-case system segment", () => {
    for (const source of ["urn:millwright:", "urn:millwright::x", "urn:millwright:SAP:S4", "urn:millwright:sap-x:S4", "urn:millwrights:sap:S4", "URN:millwright:sap:S4", "https://erp.example.com/sap/opu", "plant-7", ""]) {
      expect(parseMillwrightSource(source), source).toBeUndefined();
    }
  });

  it("finds the system exactly where the convention puts it, for any string", () => {
    const convention = /^urn:millwright:([a-z0-9]+)(?::|$)/;
    const near = fc.oneof(fc.string(), fc.tuple(fc.constantFrom("urn:millwright:", "urn:millwright:sap", "urn:millwright:Sap:"), fc.string()).map(([a, b]) => a + b));
    fc.assert(fc.property(near, (s) => parseMillwrightSource(s)?.system === convention.exec(s)?.[1]));
  });

  it("builds a source that parses back to its parts and that parseEvent accepts", () => {
    expect(toMillwrightSource("sap", "S4PCLNT100")._unsafeUnwrap()).toBe("urn:millwright:sap:S4PCLNT100");
    expect(toMillwrightSource("wms", "")._unsafeUnwrap()).toBe("urn:millwright:wms");
    fc.assert(
      fc.property(system, instance, (sys, inst) => {
        const source = toMillwrightSource(sys, inst)._unsafeUnwrap();
        expect(parseMillwrightSource(source)).toEqual({ system: sys, instance: inst });
        expect(parseEvent({ ...sampleJson(), source }).isOk()).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a system that is not lower-case letters and digits, and an instance that breaks the URI", () => {
    expect(toMillwrightSource("SAP", "S4PCLNT100")._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_attribute_value",
        "message": "/system: the system of a Millwright source is lower-case letters and digits (got "SAP")",
        "path": "/system",
        "rule": "the system of a Millwright source is lower-case letters and digits",
        "value": "SAP",
      }
    `);
    expect(toMillwrightSource("", "x")._unsafeUnwrapErr().path).toBe("/system");
    expect(toMillwrightSource("mes", "line 4")._unsafeUnwrapErr().message).toMatchInlineSnapshot(
      `"/instance: the instance keeps the source a URI-reference (RFC 3986 §4.1): percent-encode other characters (got "line 4")"`,
    );
    expect(toMillwrightSource("mes", "line%204")._unsafeUnwrap()).toBe("urn:millwright:mes:line%204");
  });
});
