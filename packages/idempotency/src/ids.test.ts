import { MILLWRIGHT_NAMESPACE, uuidV5 } from "@millwright/events";
import { describe, expect, it } from "vitest";
import { inboxKey, RECORD_NAMESPACE, recordId } from "./ids.js";

describe("record ids", () => {
  it("pins the record namespace to its derivation", () => {
    expect(uuidV5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "https://schemas.millwright.dev/v1/records")).toBe(RECORD_NAMESPACE);
    expect(RECORD_NAMESPACE).not.toBe(MILLWRIGHT_NAMESPACE);
  });

  it("is deterministic and separates parts unambiguously", () => {
    expect(inboxKey("urn:a", "1")).toBe(inboxKey("urn:a", "1"));
    expect(inboxKey("urn:a", "1")).toBe(recordId("inbox", ["urn:a", "1"]));
    expect(recordId("inbox", ["ab", "c"])).not.toBe(recordId("inbox", ["a", "bc"]));
    expect(recordId("outbox", ["urn:a", "1"])).not.toBe(inboxKey("urn:a", "1"));
    expect(inboxKey("urn:millwright:sap:S4PCLNT100", "2f1c0e5a-0000-5000-8000-000000000000")).toMatchInlineSnapshot(`"d55e4349-ccd6-5340-b3d1-06ed17237729"`);
  });
});
