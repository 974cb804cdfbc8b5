import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { diffContracts, loadContract } from "./diff.js";

const root = join(import.meta.dirname, "..", "..", "..");
const current = () => structuredClone(loadContract(join(root, "schemas")));

const rules = (before: ReturnType<typeof current>, after: ReturnType<typeof current>) =>
  diffContracts(before, after).map((c) => `${c.severity} ${c.rule} ${c.where}`);
/** The schema-level changes only: without the per-event-type verdicts, which the event-version tests check. */
const schemaRules = (before: ReturnType<typeof current>, after: ReturnType<typeof current>) => rules(before, after).filter((r) => !r.includes(" new_version_needed "));

describe("diffContracts", () => {
  test("the schema folder and the published bundle are the same contract", () => {
    const bundle = loadContract(join(root, "packages", "model", "schemas", "bundle.schema.json"));
    expect(diffContracts(bundle, current())).toEqual([]);
  });

  test("removed and renamed properties, new required fields and narrowed enums are breaking", () => {
    const before = current();
    const after = current();
    const wo = after["WorkOrder"] as any;
    delete wo.properties.orderType;
    wo.properties.orderKind = wo.properties.priority;
    wo.required.push("orderKind");
    (after["WorkOrderStatus"] as any).enum = (after["WorkOrderStatus"] as any).enum.filter((v: string) => v !== "on_hold");
    (after["Identifier"] as any).maxLength = 64;
    expect(schemaRules(before, after)).toMatchInlineSnapshot(`
      [
        "breaking maxLength_narrowed Identifier",
        "breaking property_removed WorkOrder/properties/orderType",
        "breaking required_property_added WorkOrder/properties/orderKind",
        "breaking enum_narrowed WorkOrderStatus",
      ]
    `);
  });

  test("widening is compatible and passes", () => {
    const before = current();
    const after = current();
    (after["StockType"] as any).enum.push("restricted");
    (after["Batch"] as any).properties.grade = { type: "string", description: "A quality grade." };
    (after["Identifier"] as any).maxLength = 256;
    const changes = diffContracts(before, after);
    expect(changes.every((c) => c.severity === "compatible")).toBe(true);
    expect(changes.map((c) => c.rule).sort()).toEqual(["enum_widened", "maxLength_widened", "property_added"]);
  });

  test("a changed natural key is breaking, since event ids derive from it", () => {
    const before = current();
    const after = current();
    (after["Batch"] as any)["x-natural-key"] = ["/batchId"];
    expect(rules(before, after)).toEqual(["breaking natural_key_changed Batch", "breaking new_version_needed BatchCreatedData", "breaking new_version_needed BatchStatusChangedData"]);
  });

  test("a removed type and a removed transition are breaking", () => {
    const before = current();
    const after = current();
    delete after["Reason"];
    (after["WorkOrderStatus"] as any)["x-transitions"].completed = ["closed"];
    const found = rules(before, after);
    expect(found).toContain("breaking type_removed Reason");
    expect(found).toContain("breaking transition_removed WorkOrderStatus");
  });
});

describe("diffContracts and event versions", () => {
  test("a breaking change to an entity names every event type that needs a new major version", () => {
    const before = current();
    const after = current();
    delete (after["MachineState"] as any).properties.reason;
    expect(rules(before, after)).toMatchInlineSnapshot(`
      [
        "breaking property_removed MachineState/properties/reason",
        "breaking new_version_needed MachineStateChangedData",
        "breaking new_version_needed MachineStateChangedV2Data",
      ]
    `);
    const message = diffContracts(before, after).find((c) => c.where === "MachineStateChangedData")!.message;
    expect(message).toMatchInlineSnapshot(
      `"dev.millwright.machinestate.changed.v1 changed incompatibly (1 breaking change(s): property_removed): consumers of it would reject or misread its events. Leave dev.millwright.machinestate.changed.v1 as released, publish the new shape as dev.millwright.machinestate.changed.v3 beside it, and register an upcaster dev.millwright.machinestate.changed.v2 → dev.millwright.machinestate.changed.v3"`,
    );
  });

  test("requiring a field in a released type (a new data requirement) needs a new version; dropping one does not", () => {
    const before = current();
    const after = current();
    (after["MachineStateChangedData"] as any)["x-event"].dataRequires = { "/operationMode": ["none", "maintenance", "setup", "processing"] };
    (after["WorkOrderCreatedData"] as any)["x-event"].dataRequires["/status"] = ["planned"];
    expect(rules(before, after)).toEqual([
      "breaking data_requirement_added MachineStateChangedData",
      "breaking data_requirement_narrowed WorkOrderCreatedData",
      "breaking new_version_needed MachineStateChangedData",
      "breaking new_version_needed WorkOrderCreatedData",
    ]);
    expect(rules(after, before)).toEqual(["compatible data_requirement_removed MachineStateChangedData", "compatible data_requirement_widened WorkOrderCreatedData"]);
  });

  test("a v2 without an upcaster from v1 is breaking and names the missing upcaster; the shipped one satisfies it", () => {
    const contract = current();
    expect(diffContracts(contract, contract)).toEqual([]);
    const missing = diffContracts(contract, contract, { upcasters: [] });
    expect(missing.map((c) => `${c.severity} ${c.rule} ${c.where}`)).toEqual(["breaking upcaster_missing MachineStateChangedV2Data"]);
    expect(missing[0]?.message).toMatch(/^no upcaster dev\.millwright\.machinestate\.changed\.v1 → dev\.millwright\.machinestate\.changed\.v2: /);
  });

  test("adding v2 and deprecating v1 is compatible once the upcaster exists; a deprecation must name a type of the catalog", () => {
    const after = current();
    const before = current();
    delete before["MachineStateChangedV2Data"];
    (after["MachineStateChangedData"] as any)["x-event"].deprecated = { since: "0.3.0", replacedBy: "dev.millwright.machinestate.changed.v2", reason: "v2 always states the operation mode" };
    expect(rules(before, after)).toEqual(["compatible event_deprecated MachineStateChangedData", "compatible type_added MachineStateChangedV2Data"]);
    (after["MachineStateChangedData"] as any)["x-event"].deprecated.replacedBy = "dev.millwright.machinestate.changed.v3";
    expect(rules(before, after)).toContain("breaking replacement_missing MachineStateChangedData");
  });
});
