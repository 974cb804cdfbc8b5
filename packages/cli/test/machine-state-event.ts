// One machine-state event as a line's OPC UA adapter would emit it (about 850 bytes as text),
// shared by the validate tests and the validate bench.
import { createEvent, serializeEvent } from "@millwright/events";
import type { MachineState } from "@millwright/model";

/** The machine state of line PACK1 in `execute`, at the given revision. */
function packLineState(revision: string): MachineState {
  return {
    equipment: { id: "PACK1", level: "production_line", site: { id: "1710" }, path: ["FIN"] },
    availability: "executing",
    packmlState: "execute",
    sourceState: { value: 6, text: "Execute" },
    since: "2026-03-06T10:02:13.482-08:00",
    order: { orderId: "1000123", operationId: "0050" },
    revision,
    sourceRefs: [{ system: "urn:plc-pack1:opcua-server", kind: "Variable", key: "ns=3;s=PACK1.Status.StateCurrent" }],
  };
}

/** {@link packLineState} as a serialized `machinestate.changed` event from `source`. */
export function packLineEvent(source: string, revision: string): string {
  const data = packLineState(revision);
  return serializeEvent(createEvent({ type: "dev.millwright.machinestate.changed.v1", source, time: data.since, data })._unsafeUnwrap());
}
