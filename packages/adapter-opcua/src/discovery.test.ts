import { describe, expect, it } from "vitest";
import { draftSignalConfig, type DiscoveredNode } from "./discovery.js";

const v = (nodeId: string, path: string, dataType: string, typeDefinition = "BaseDataVariableType"): DiscoveredNode => ({ nodeId, path: path.split("/"), nodeClass: "Variable", typeDefinition, dataType });
const o = (nodeId: string, path: string, typeDefinition: string): DiscoveredNode => ({ nodeId, path: path.split("/"), nodeClass: "Object", typeDefinition });

describe("draftSignalConfig", () => {
  it("drafts a Machinery item state, a processed and a defective counter and an order", () => {
    const draft = draftSignalConfig([
      o("ns=4;i=1", "Press1", "MachineryItemState_StateMachineType"),
      v("ns=4;i=2", "Press1/MachineryItemState/CurrentState/Number", "UInt32"),
      o("ns=4;i=3", "Press1/Admin", "PackMLAdminObjectType"),
      v("ns=4;i=4", "Press1/Admin/ProdProcessedCount/Count", "Int32"),
      v("ns=4;i=5", "Press1/Admin/ProdDefectiveCount/Count", "Int32"),
      v("ns=4;i=6", "Press1/Jobs/JobOrderID", "String"),
      v("ns=4;i=7", "Press1/Admin/ProdDefectiveCount/Name", "String"),
    ]);
    expect(draft).toMatchInlineSnapshot(`
      {
        "countObjectKind": "PackMLAdminObjectType",
        "countObjectNodeId": "ns=4;i=3",
        "machines": [
          {
            "kind": "machinery",
            "nodeId": "ns=4;i=1",
            "path": "Press1",
          },
        ],
        "signals": [
          {
            "because": "Machinery item state number at Press1/MachineryItemState/CurrentState/Number",
            "mapping": {
              "kind": "machinery",
            },
            "nodeId": "ns=4;i=2",
            "role": "machine_state",
          },
          {
            "because": "cumulative counter Press1/Admin/ProdProcessedCount/Count (Int32)",
            "nodeId": "ns=4;i=4",
            "role": "processed_count",
            "width": "int32",
          },
          {
            "because": "cumulative counter Press1/Admin/ProdDefectiveCount/Count (Int32)",
            "nodeId": "ns=4;i=5",
            "role": "defective_count",
            "width": "int32",
          },
          {
            "because": "order number at Press1/Jobs/JobOrderID",
            "nodeId": "ns=4;i=6",
            "role": "order_number",
          },
        ],
      }
    `);
  });

  it("keeps the first good counter and drops a processed one", () => {
    const draft = draftSignalConfig([v("ns=1;s=G", "L/GoodCount", "Int32"), v("ns=1;s=P", "L/ProcessedCount", "UInt32"), v("ns=1;s=G2", "L/ProdGoodCount", "Int32")]);
    expect(draft.signals.map((s) => s.nodeId)).toEqual(["ns=1;s=G"]);
  });
});
