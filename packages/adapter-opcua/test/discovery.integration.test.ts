import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAdapterConfig } from "../src/config.js";
import { discoverSignalConfig } from "../src/discovery.js";
import { NODES, SimulatedLine } from "../src/test-server/index.js";

describe("discoverSignalConfig against a real node-opcua server", () => {
  const line = new SimulatedLine({ state: 6 });
  beforeAll(async () => {
    await line.start();
  });
  afterAll(async () => {
    await line.stop();
  });

  it("finds the PackML object and drafts a configuration that validates", async () => {
    const started = Date.now();
    const draft = (await discoverSignalConfig(line.endpointUrl, { maxDepth: 4 }))._unsafeUnwrap();
    expect(draft.machines.map((m) => m.kind)).toContain("packml");
    const drafted = draft.signals.map((s) => [s.role, s.nodeId]);
    expect(drafted).toEqual(
      expect.arrayContaining([
        ["machine_state", NODES.state],
        ["good_count", NODES.good],
        ["defective_count", NODES.defective],
        ["order_number", NODES.order],
      ]),
    );
    expect(draft.signals.filter((s) => s.role !== "process_value")).toHaveLength(4);
    const config = parseAdapterConfig({
      endpointUrl: line.endpointUrl,
      sourceSystem: "urn:test:line1",
      equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
      countObjectNodeId: draft.countObjectNodeId,
      signals: draft.signals.map(({ because: _because, ...signal }) => signal),
    });
    expect(config.isOk()).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("finds the PackML state in the base state machine's CurrentState when there is no StateCurrent", async () => {
    const machine = new SimulatedLine({ state: 6 }, { stateVariable: "CurrentState" });
    await machine.start();
    try {
      const draft = (await discoverSignalConfig(machine.endpointUrl, { maxDepth: 4 }))._unsafeUnwrap();
      expect(draft.signals.filter((s) => s.role === "machine_state").map((s) => [s.nodeId, s.mapping?.kind])).toEqual([[machine.stateNodeId, "packml"]]);
      expect(machine.stateNodeId).not.toBe(NODES.state);
      // Recognised by the state machine's type definition read from the server, not by browse names.
      expect(draft.signals.find((s) => s.role === "machine_state")?.because).toContain("PackMLBaseStateMachineType");
    } finally {
      await machine.stop();
    }
  });

  it("reports an unreachable endpoint as a value", async () => {
    const error = (await discoverSignalConfig("opc.tcp://127.0.0.1:1"))._unsafeUnwrapErr();
    expect(error.code).toBe("connect_failed");
  });
});
