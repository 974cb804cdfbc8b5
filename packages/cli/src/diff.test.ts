import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { diffContracts, loadContract } from "./diff.js";

const root = join(import.meta.dirname, "..", "..", "..");
const current = () => structuredClone(loadContract(join(root, "schemas")));

const rules = (before: ReturnType<typeof current>, after: ReturnType<typeof current>) =>
  diffContracts(before, after).map((c) => `${c.severity} ${c.rule} ${c.where}`);

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
    expect(rules(before, after)).toMatchInlineSnapshot(`
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
    expect(rules(before, after)).toEqual([expect.stringMatching(/^breaking natural_key_changed Batch$/)]);
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
