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
            "because": "Machinery item state number at Press1/MachineryItemState/CurrentState/Number (by browse name)",
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

  it("finds the PackML state as the CurrentState of a PackML state machine by its type, whatever the names", () => {
    const nodes: DiscoveredNode[] = [
      o("ns=2;i=1", "Filler", "PackMLBaseObjectType"),
      { ...o("ns=2;i=2", "Filler/Machine", "PackMLBaseStateMachineType"), parentNodeId: "ns=2;i=1" },
      { ...v("ns=2;i=3", "Filler/Machine/CurrentState", "LocalizedText", "FiniteStateVariableType"), parentNodeId: "ns=2;i=2" },
      { ...v("ns=2;i=4", "Filler/Machine/CurrentState/Number", "UInt32", "PropertyType"), parentNodeId: "ns=2;i=3" },
      { ...o("ns=2;i=5", "Filler/Door", "ExclusiveLimitStateMachineType"), parentNodeId: "ns=2;i=1" },
      { ...v("ns=2;i=6", "Filler/Door/CurrentState", "LocalizedText", "FiniteStateVariableType"), parentNodeId: "ns=2;i=5" },
      { ...v("ns=2;i=7", "Filler/Door/CurrentState/Number", "UInt32", "PropertyType"), parentNodeId: "ns=2;i=6" },
    ];
    const state = draftSignalConfig(nodes).signals.filter((s) => s.role === "machine_state");
    expect(state).toEqual([{ role: "machine_state", nodeId: "ns=2;i=4", mapping: { kind: "packml" }, because: expect.stringContaining("PackMLBaseStateMachineType") as string }]);
    // Without the optional Number property, the CurrentState itself: its value is the state's name.
    const withoutNumber = draftSignalConfig(nodes.filter((n) => n.nodeId !== "ns=2;i=4")).signals.filter((s) => s.role === "machine_state");
    expect(withoutNumber.map((s) => [s.nodeId, s.mapping?.kind])).toEqual([["ns=2;i=3", "packml"]]);
    // A CurrentState of any other state machine is not a PackML state.
    expect(draftSignalConfig(nodes.slice(4)).signals).toEqual([]);
  });

  it("finds a Machinery item state by the state machine's type", () => {
    const draft = draftSignalConfig([
      o("ns=4;i=1", "Press1", "MachineComponentsType"),
      { ...o("ns=4;i=2", "Press1/Status", "MachineryItemState_StateMachineType"), parentNodeId: "ns=4;i=1" },
      { ...v("ns=4;i=3", "Press1/Status/CurrentState", "LocalizedText", "FiniteStateVariableType"), parentNodeId: "ns=4;i=2" },
      { ...v("ns=4;i=4", "Press1/Status/CurrentState/Number", "UInt32", "PropertyType"), parentNodeId: "ns=4;i=3" },
    ]);
    expect(draft.signals.map((s) => [s.role, s.nodeId, s.mapping?.kind])).toEqual([["machine_state", "ns=4;i=4", "machinery"]]);
  });
});
