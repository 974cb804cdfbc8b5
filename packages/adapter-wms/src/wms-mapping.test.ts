import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testWmsMapping, type TestWmsTask } from "./test-server.js";
import { applyVendorMapping, createVendorMapping } from "./wms-mapping.js";

const task: TestWmsTask = {
  taskId: "T-000001",
  taskType: "PICK",
  sku: "RM-CAST-22",
  lot: "C-88123",
  qty: "505.500",
  uom: "KG",
  src: { plant: "1710", sloc: "0001", bin: "STOCK-01" },
  dst: { plant: "1710", sloc: "0001", bin: "STAGE-01" },
  confirmedAt: "2026-03-02T05:10:00.000Z",
  orderNo: "1000123",
  requestRef: "1000123/staging/20260301061530",
};

describe("declarative vendor mappings (JSONata)", () => {
  const mapping = createVendorMapping({ name: "test-wms", template: testWmsMapping })._unsafeUnwrap();

  it("maps a vendor task to a contract event", async () => {
    expect((await applyVendorMapping(mapping, task))._unsafeUnwrap()).toMatchInlineSnapshot(`
      {
        "batchId": "C-88123",
        "eventId": "T-000001",
        "from": {
          "bin": "STOCK-01",
          "site": {
            "id": "1710",
          },
          "storageLocation": "0001",
        },
        "material": {
          "id": "RM-CAST-22",
        },
        "occurredAt": "2026-03-02T05:10:00.000Z",
        "order": {
          "orderId": "1000123",
        },
        "quantity": {
          "unit": "KGM",
          "value": "505.500",
        },
        "stagingRequestId": "1000123/staging/20260301061530",
        "to": {
          "bin": "STAGE-01",
          "site": {
            "id": "1710",
          },
          "storageLocation": "0001",
        },
        "type": "pick",
      }
    `);
  });

  it("points contract violations into the vendor payload", async () => {
    const bad = { ...task, uom: "BARREL", qty: "1,5", src: { sloc: "0001" }, taskType: "TELEPORT" };
    const error = (await applyVendorMapping(mapping, bad))._unsafeUnwrapErr();
    expect(error.issues.map((i) => [i.path, i.vendorPath, i.vendorValue])).toEqual([
      ["/type", "/taskType", "TELEPORT"],
      ["/quantity/unit", "/uom", "BARREL"],
      ["/quantity/value", "/qty", "1,5"],
      ["/from/site", "/src/plant", undefined],
    ]);
    expect(error.issues[2]?.message).toMatchInlineSnapshot(`"/quantity/value: "1,5" is not in the required format (Decimal: pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$) from vendor /qty = "1,5""`);
  });

  it("reports expressions that do not compile and that fail", async () => {
    expect(createVendorMapping({ name: "broken", template: { eventId: "taskId[" } })._unsafeUnwrapErr().issues[0]?.path).toBe("/eventId");
    const failing = createVendorMapping({ name: "failing", template: { eventId: "$number(taskId) + 'x'" } })._unsafeUnwrap();
    expect((await applyVendorMapping(failing, { taskId: "7" }))._unsafeUnwrapErr().code).toBe("expression_failed");
  });

  it("never rejects, whatever the payload", async () => {
    const odd = createVendorMapping({ name: "odd", template: { eventId: "$string", type: "taskType.*", quantity: { value: "$sum(qty)", unit: { $literal: "KGM" } } } })._unsafeUnwrap();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (payload) => {
        expect((await applyVendorMapping(mapping, payload)).isErr()).toBe(true);
        await applyVendorMapping(odd, payload);
      }),
      { numRuns: 100 },
    );
  });
});
