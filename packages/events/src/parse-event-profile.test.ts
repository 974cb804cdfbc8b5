import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadProfile } from "@millwright/model";
import { describe, expect, it } from "vitest";
import { sampleJson } from "../test/fixtures.js";
import { parseEvent, parseEventBatch } from "./parse-event.js";

const profile = loadProfile(JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "profiles", "plant-1710.profile.json"), "utf8")))._unsafeUnwrap();

/** The sample completed work order as a structured event, moved to a site and given extensions. */
function eventAt(site: string, extensions: Record<string, Record<string, unknown>> | undefined): Record<string, unknown> {
  const json = sampleJson();
  const data = json["data"] as Record<string, unknown>;
  data["site"] = { id: site };
  data["receivingLocation"] = { site: { id: site }, storageLocation: "171A", stockType: "unrestricted" };
  json["partitionkey"] = `${site}/${String(data["orderId"])}`;
  if (extensions === undefined) delete data["extensions"];
  else data["extensions"] = extensions;
  return json;
}

describe("parseEvent with a plant profile", () => {
  it("accepts an event of plant 1710 whose order names its shift model, as JSON text too", () => {
    const json = eventAt("1710", { sap: { ZZ1_ShiftModel_ORD: "3-SHIFT" } });
    expect(parseEvent(json, { profile }).isOk()).toBe(true);
    expect(parseEvent(JSON.stringify(json), { profile }).isOk()).toBe(true);
  });

  it("rejects an event the catalog accepts when the profile's requirement fails, naming profile, rule and field", () => {
    const json = eventAt("1710", undefined);
    expect(parseEvent(json).isOk()).toBe(true);
    const error = parseEvent(json, { profile })._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_data");
    expect(error.path).toBe("/data");
    expect(error.rule).toBe("the data of dev.millwright.workorder.completed.v1 is a valid WorkOrder under profile plant-1710@1.0.0");
    if (error.code !== "invalid_data") throw new Error("unreachable");
    expect(error.cause.issues.map((i) => [i.code, i.path, i.profile])).toEqual([["missing_property", "/extensions/sap/ZZ1_ShiftModel_ORD", "plant-1710@1.0.0"]]);
  });

  it("rejects a value outside the namespace schema; an event of another site is not held to 1710's requirement", () => {
    const bad = parseEvent(eventAt("1710", { sap: { ZZ1_ShiftModel_ORD: "NIGHT" } }), { profile })._unsafeUnwrapErr();
    expect(bad.message).toContain('"NIGHT" is not an allowed value (profile plant-1710@1.0.0: one of "1-SHIFT", "2-SHIFT", "3-SHIFT")');
    const other = parseEvent(eventAt("1010", undefined), { profile });
    expect(other.isOk(), other.isErr() ? other.error.message : "").toBe(true);
  });

  it("an envelope error comes first, as without a profile", () => {
    const json = eventAt("1710", undefined);
    delete json["id"];
    expect(parseEvent(json, { profile })._unsafeUnwrapErr().code).toBe("missing_attribute");
  });

  it("parseEventBatch applies the profile to every event, the path naming the event", () => {
    const error = parseEventBatch([eventAt("1710", { sap: { ZZ1_ShiftModel_ORD: "1-SHIFT" } }), eventAt("1710", {})], { profile })._unsafeUnwrapErr();
    expect(error.path).toBe("/1/data");
  });
});
