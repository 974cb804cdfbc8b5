import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { clone, validExamples } from "../test/fixtures.js";
import { parseEventData } from "./event-data.js";
import { entityNames } from "./generated/catalog.js";
import { parseBatch, parseEntity, parseWorkOrder } from "./parse.js";
import { checkProfile } from "./profile-check.js";
import { loadProfile, type Profile } from "./profile.js";

const PROFILES = join(import.meta.dirname, "..", "..", "..", "profiles");
const plant1710Document = (): Record<string, any> => JSON.parse(readFileSync(join(PROFILES, "plant-1710.profile.json"), "utf8"));
const profileSchema = JSON.parse(readFileSync(join(PROFILES, "profile.schema.json"), "utf8"));
const plant1710 = (): Profile => loadProfile(plant1710Document())._unsafeUnwrap();

/** A valid work order of site 1710, as SAP sends it (with a receiving location). */
const order1710 = (): Record<string, any> => {
  const order = clone(validExamples("WorkOrder").find((e) => e.name.startsWith("sap-production-order"))!.json) as Record<string, any>;
  order.site = { id: "1710" };
  order.receivingLocation = { site: { id: "1710" }, storageLocation: "171A", stockType: "unrestricted" };
  // The example carries the shift model already; each test sets the extensions it is about.
  delete order.extensions;
  return order;
};

describe("the plant 1710 profile", () => {
  test("loads, and is valid under profiles/profile.schema.json", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false });
    const validate = ajv.compile(profileSchema);
    expect(validate(plant1710Document()), JSON.stringify(validate.errors)).toBe(true);
    expect(plant1710().name).toBe("plant-1710@1.0.0");
  });

  test("a 1710 order with its shift model passes; the global parser and the profiled one agree", () => {
    const order = order1710();
    order.extensions = { sap: { ZZ1_ShiftModel_ORD: "2-SHIFT", ZZ1_Other: 7 } };
    expect(parseWorkOrder(order).isOk()).toBe(true);
    expect(parseWorkOrder(order, { profile: plant1710() })._unsafeUnwrap()).toBe(order);
  });

  test("a 1710 order without its shift model is globally valid, and the profile rejects it naming the requirement", () => {
    const order = order1710();
    expect(parseWorkOrder(order).isOk()).toBe(true);
    const error = parseWorkOrder(order, { profile: plant1710() })._unsafeUnwrapErr();
    expect(error.issues).toEqual([
      {
        code: "missing_property",
        path: "/extensions/sap/ZZ1_ShiftModel_ORD",
        profile: "plant-1710@1.0.0",
        rule: 'profile plant-1710@1.0.0 requirement shift-model-at-1710: /extensions/sap/ZZ1_ShiftModel_ORD is required when /site/id is "1710"',
        message:
          '/extensions/sap/ZZ1_ShiftModel_ORD is required but missing (profile plant-1710@1.0.0 requirement shift-model-at-1710: /extensions/sap/ZZ1_ShiftModel_ORD is required when /site/id is "1710")',
      },
    ]);
  });

  test("the requirement applies only where its condition holds: an order of site 1010 needs no shift model", () => {
    const order = order1710();
    order.site = { id: "1010" };
    expect(parseWorkOrder(order, { profile: plant1710() }).isOk()).toBe(true);
  });

  test("namespace schemas: values, closed namespaces and every issue with field, value and rule", () => {
    const order = order1710();
    order.extensions = { sap: { ZZ1_ShiftModel_ORD: "4-SHIFT", ZZ1_LineSupervisor_ORD: "m.okafor" }, "com.acme.plant1710": { shiftCode: "D", crewSize: 41.5, badge: "x" } };
    expect(parseWorkOrder(order).isOk()).toBe(true);
    const issues = parseWorkOrder(order, { profile: plant1710() })._unsafeUnwrapErr().issues;
    expect(issues.map((i) => [i.code, i.path, i.value, i.rule])).toEqual([
      ["invalid_value", "/extensions/sap/ZZ1_ShiftModel_ORD", "4-SHIFT", 'profile plant-1710@1.0.0: one of "1-SHIFT", "2-SHIFT", "3-SHIFT"'],
      ["invalid_format", "/extensions/sap/ZZ1_LineSupervisor_ORD", "m.okafor", "profile plant-1710@1.0.0: pattern ^[A-Z0-9]{1,12}$"],
      ["invalid_value", "/extensions/com.acme.plant1710/shiftCode", "D", 'profile plant-1710@1.0.0: one of "A", "B", "C"'],
      ["invalid_type", "/extensions/com.acme.plant1710/crewSize", 41.5, "profile plant-1710@1.0.0: type integer"],
      ["unknown_property", "/extensions/com.acme.plant1710/badge", "x", "profile plant-1710@1.0.0: com.acme.plant1710 has only its declared fields"],
    ]);
    expect(issues[0]?.message).toMatchInlineSnapshot(`"/extensions/sap/ZZ1_ShiftModel_ORD: "4-SHIFT" is not an allowed value (profile plant-1710@1.0.0: one of "1-SHIFT", "2-SHIFT", "3-SHIFT")"`);
  });

  test("a globally invalid record gets only the global issues: the profile never runs on it", () => {
    const order = order1710();
    delete order.orderId;
    const global = parseWorkOrder(order)._unsafeUnwrapErr();
    expect(parseWorkOrder(order, { profile: plant1710() })._unsafeUnwrapErr()).toEqual(global);
  });

  test("parseEntity, parseEventData and checkProfile apply the profile too", () => {
    const order = { ...order1710(), status: "released" };
    const profile = plant1710();
    expect(parseEntity("WorkOrder", order, { profile })._unsafeUnwrapErr().issues[0]?.path).toBe("/extensions/sap/ZZ1_ShiftModel_ORD");
    expect(parseEventData("dev.millwright.workorder.released.v1", order, { profile })._unsafeUnwrapErr().issues[0]?.profile).toBe("plant-1710@1.0.0");
    expect(checkProfile(profile, "WorkOrder", order).isErr()).toBe(true);
    expect(checkProfile(profile, "Batch", order).isOk()).toBe(true);
  });

  test("a parser passed to map ignores the index", () => {
    const batch = validExamples("Batch")[0]!.json;
    expect([batch].map(parseBatch as (input: unknown) => ReturnType<typeof parseBatch>)[0]?.isOk()).toBe(true);
  });

  test("a profile not made by loadProfile is a programmer error", () => {
    expect(() => parseWorkOrder(order1710(), { profile: { name: "x@1.0.0", document: { id: "x", version: "1.0.0" } } })).toThrow(/loadProfile/);
  });

  test("the loaded profile is a frozen copy: changing the document afterwards changes nothing", () => {
    const doc = plant1710Document();
    const profile = loadProfile(doc)._unsafeUnwrap();
    doc.requirements = [];
    expect(parseWorkOrder(order1710(), { profile }).isErr()).toBe(true);
    expect(Object.isFrozen(profile.document.requirements)).toBe(true);
  });
});

describe("loadProfile refuses what would loosen or break the global contract", () => {
  const base = { id: "p", version: "1.0.0" };
  const ns = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...base, extensions: { plant: { type: "object", properties: fields, ...extra } } });
  test.each([
    ["an object field", ns({ f: { type: "object" } }), "breaks_contract", "/extensions/plant/properties/f/type"],
    ["an array field", ns({ f: { type: ["string", "array"] } }), "breaks_contract", "/extensions/plant/properties/f/type"],
    ["a $ref", ns({ f: { $ref: "https://example.com/x.json" } }), "unsupported_keyword", "/extensions/plant/properties/f/$ref"],
    ["a combinator", ns({ f: { anyOf: [{ type: "object" }] } }), "unsupported_keyword", "/extensions/plant/properties/f/anyOf"],
    ["a non-object namespace", { ...base, extensions: { plant: { type: "string" } } }, "breaks_contract", "/extensions/plant/type"],
    ["a nested schema in the namespace", ns({}, { patternProperties: {} }), "unsupported_keyword", "/extensions/plant/patternProperties"],
    ["a namespace name the contract forbids", { ...base, extensions: { "Plant.X": { type: "object" } } }, "breaks_contract", "/extensions/Plant.X"],
    ["a field name the contract forbids", ns({ __proto__x: {}, "a-b": { type: "string" } }), "breaks_contract", "/extensions/plant/properties/a-b"],
    ["an enum of objects", ns({ f: { enum: [{ a: 1 }] } }), "breaks_contract", "/extensions/plant/properties/f/enum"],
    ["an enum no value of the type meets", ns({ f: { type: "integer", enum: ["a"] } }), "unsatisfiable", "/extensions/plant/properties/f/enum"],
    ["a minimum above the maximum", ns({ f: { minimum: 5, maximum: 4 } }), "unsatisfiable", "/extensions/plant/properties/f"],
    ["a minLength beyond the contract's 4096", ns({ f: { minLength: 5000 } }), "unsatisfiable", "/extensions/plant/properties/f/minLength"],
    ["a required field the namespace refuses", ns({}, { additionalProperties: false, required: ["f"] }), "unsatisfiable", "/extensions/plant/required/0"],
    ["an unknown format", ns({ f: { format: "email" } }), "unsupported_keyword", "/extensions/plant/properties/f/format"],
    ["a requirement on an unknown entity", { ...base, requirements: [{ id: "r", entity: "Order", require: ["/x"] }] }, "breaks_contract", "/requirements/0/entity"],
    ["a requirement on a path the entity does not have", { ...base, requirements: [{ id: "r", entity: "WorkOrder", require: ["/shiftCode"] }] }, "breaks_contract", "/requirements/0/require/0"],
    ["a requirement into an array", { ...base, requirements: [{ id: "r", entity: "WorkOrder", require: ["/operations/0/workCenter"] }] }, "breaks_contract", "/requirements/0/require/0"],
    ["a requirement on an undeclared namespace", { ...base, requirements: [{ id: "r", entity: "WorkOrder", require: ["/extensions/mes/shift"] }] }, "breaks_contract", "/requirements/0/require/0"],
    ["a condition on an object", { ...base, requirements: [{ id: "r", entity: "WorkOrder", when: { "/site": "1710" }, require: ["/priority"] }] }, "breaks_contract", "/requirements/0/when/~1site"],
    ["an unknown member", { ...base, widen: true }, "unsupported_keyword", "/widen"],
  ])("%s", (_what, document, code, path) => {
    const issues = loadProfile(document)._unsafeUnwrapErr().issues;
    expect(issues.map((i) => [i.code, i.path])).toContainEqual([code, path]);
  });

  test("every issue names its path, value and rule", () => {
    const error = loadProfile({ ...base, extensions: { plant: { type: "object", properties: { f: { type: "object" } } } } })._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"the profile is invalid: /extensions/plant/properties/f/type: "object" is not a scalar type; the global contract carries only flat scalar extension values"`);
    expect(error.issues[0]).toMatchObject({ value: "object", rule: "an extension value is a string, number, integer, boolean or null" });
  });

  test("requirements may name every entity's scalar properties and declared extension fields", () => {
    for (const entity of entityNames) {
      const profile = loadProfile({ ...base, extensions: { plant: { type: "object" } }, requirements: [{ id: "r", entity, require: ["/revision"] }] });
      expect(profile.isOk(), entity).toBe(true);
    }
  });
});
