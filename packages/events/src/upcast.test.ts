import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEventData, type EventDataMap } from "@millwright/model";
import { describe, expect, it } from "vitest";
import { createEvent, type CreatedEvent } from "./create-event.js";
import type { CanonicalEvent } from "./envelope.js";
import { parseEvent } from "./parse-event.js";
import { serializeEvent } from "./serialize.js";
import { catalogUpcasters, createUpcasterRegistry, defineUpcaster, machineStateChangedV1ToV2, type Upcaster } from "./upcast.js";

const V1 = "dev.millwright.machinestate.changed.v1";
const V2 = "dev.millwright.machinestate.changed.v2";
const SOURCE = "urn:millwright:opcua:plc-pack1";
const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "schemas", "examples", "machine-state");

type MachineState = EventDataMap[typeof V1];

/** The machine-state examples of schemas/examples, by file name. */
function examples(): { file: string; data: MachineState }[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, data: JSON.parse(readFileSync(join(EXAMPLES, file), "utf8")) as MachineState }));
}

function v1Event(data: MachineState): CreatedEvent<typeof V1> {
  return createEvent({ type: V1, source: SOURCE, data, time: data.since, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", extensions: { plant: "1710" } })._unsafeUnwrap();
}

const registry = createUpcasterRegistry(catalogUpcasters);

describe("the v1 → v2 evolution of machinestate.changed", () => {
  it("v2 requires the operation mode, which v1 leaves optional", () => {
    const withoutMode = examples().find((e) => e.data.operationMode === undefined);
    expect(withoutMode).toBeDefined();
    const data = withoutMode!.data;
    expect(parseEventData(V1, data).isOk()).toBe(true);
    expect(parseEventData(V2, data)._unsafeUnwrapErr().issues).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid_value",
          "message": "/operationMode: absent does not fit event type dev.millwright.machinestate.changed.v2, whose data has /operationMode in "none", "maintenance", "setup", "processing"",
          "path": "/operationMode",
          "rule": "dev.millwright.machinestate.changed.v2 carries /operationMode in "none", "maintenance", "setup", "processing"",
          "value": undefined,
        },
      ]
    `);
  });

  it("the upcaster is pure: a stated mode is kept, a missing one is implied by the availability, the input is untouched", () => {
    const seen: string[] = [];
    for (const { file, data } of examples()) {
      const before = JSON.stringify(data);
      const kept = machineStateChangedV1ToV2.upcast(data);
      expect(JSON.stringify(data)).toBe(before);
      expect(machineStateChangedV1ToV2.upcast(data)).toEqual(kept);
      if (data.operationMode !== undefined) expect(kept).toBe(data);
      expect(parseEventData(V2, kept).isOk(), file).toBe(true);
      // The same fact from a v1 producer that did not know the mode.
      const { operationMode: _dropped, ...bare } = data;
      const implied = machineStateChangedV1ToV2.upcast(bare);
      expect(parseEventData(V2, implied).isOk(), file).toBe(true);
      expect({ ...implied, operationMode: undefined }).toEqual({ ...bare, operationMode: undefined });
      seen.push(`${bare.availability} → ${implied.operationMode}`);
    }
    expect([...new Set(seen)].sort()).toEqual(["executing → processing", "not_available → none", "not_executing → none", "out_of_service → maintenance"]);
  });

  it("an upcast event keeps the fact's id, source, time, subject, order and trace; type and dataschema are v2's", () => {
    const [first] = examples().filter((e) => e.data.operationMode === undefined);
    const v1 = v1Event(first!.data);
    const v2 = registry.upcast(v1, V2)._unsafeUnwrap();
    const { type: _t1, dataschema: _d1, data: _a, ...kept1 } = v1;
    const { type, dataschema, data, ...kept2 } = v2;
    expect(kept2).toEqual(kept1);
    expect(type).toBe(V2);
    expect(dataschema).toBe("https://schemas.millwright.dev/v1/events/machine-state-changed-v2.schema.json");
    expect(data.operationMode).toBe("none");
    // The upcast event is a valid v2 event on the wire.
    expect(parseEvent(serializeEvent(v2))._unsafeUnwrap()).toEqual(v2);
  });

  it("a v2 event passes unchanged; another type, a newer version or a missing upcaster is an error naming the fix", () => {
    const data = examples().find((e) => e.data.operationMode !== undefined)!.data;
    const v2 = createEvent({ type: V2, source: SOURCE, data, time: data.since })._unsafeUnwrap();
    expect(registry.upcast(v2, V2)._unsafeUnwrap()).toBe(v2);
    expect(registry.upcast(v2, V1)._unsafeUnwrapErr()).toMatchObject({ code: "unknown_event_version", path: "/type", value: V2 });
    const other = createUpcasterRegistry([]).upcast(v1Event(data), V2)._unsafeUnwrapErr();
    expect(other.message).toMatchInlineSnapshot(
      `"/type: can be read as dev.millwright.machinestate.changed.v2 once an upcaster dev.millwright.machinestate.changed.v1 → dev.millwright.machinestate.changed.v2 is registered (got "dev.millwright.machinestate.changed.v1")"`,
    );
    expect(registry.upcast(v1Event(data), "dev.millwright.workorder.released.v1")._unsafeUnwrapErr().code).toBe("unknown_event_type");
  });

  it("an upcaster that produces invalid data is caught by the v2 validator, naming the upcaster", () => {
    const broken = createUpcasterRegistry([defineUpcaster({ from: V1, to: V2, upcast: (d) => ({ ...d, operationMode: undefined }) as never })]);
    const error = broken.upcast(v1Event(examples()[0]!.data), V2)._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_data");
    expect(error.rule).toContain("(after the upcaster dev.millwright.machinestate.changed.v1 → dev.millwright.machinestate.changed.v2)");
  });

  it("declarations that skip a version, change type or repeat a step are refused at start-up", () => {
    expect(() => defineUpcaster({ from: V1, to: V1, upcast: (d) => d })).toThrowErrorMatchingInlineSnapshot(
      `[TypeError: an upcaster goes from one major version of a type to the next (got dev.millwright.machinestate.changed.v1 → dev.millwright.machinestate.changed.v1)]`,
    );
    expect(() => defineUpcaster({ from: V1, to: "dev.millwright.workorder.released.v1", upcast: () => ({}) as never })).toThrow(/next/);
    expect(() => defineUpcaster({ from: V1, to: "dev.millwright.machinestate.changed.v3" as never, upcast: (d) => d as never })).toThrow(/catalog types/);
    expect(() => createUpcasterRegistry([machineStateChangedV1ToV2, machineStateChangedV1ToV2 as Upcaster])).toThrow(/two upcasters start at/);
  });
});

describe("replay: a consumer written for v2 reads an old v1 log and a mixed live stream", () => {
  /** A consumer written for v2 only: it sees v2 data, whatever the producers sent. */
  function v2Consumer() {
    const modes = new Map<string, string>();
    const rejected: string[] = [];
    const handle = (line: string): void => {
      const event = parseEvent(line).andThen((e) => registry.upcast(e, V2));
      if (event.isErr()) {
        rejected.push(event.error.code);
        return;
      }
      const data = event.value.data;
      // v2 guarantees the mode: the consumer relies on it without a fallback.
      modes.set(`${event.value.id}`, `${data.equipment.id}:${data.operationMode as string}`);
    };
    return { modes, rejected, handle };
  }

  it("replays a v1 log written before v2 existed, line by line", () => {
    const log = examples()
      .map((e) => serializeEvent(v1Event(e.data)))
      .join("\n");
    const consumer = v2Consumer();
    for (const line of log.split("\n")) consumer.handle(line);
    expect(consumer.rejected).toEqual([]);
    expect(consumer.modes.size).toBe(examples().length);
    expect([...consumer.modes.values()].every((v) => /:(none|maintenance|setup|processing)$/.test(v))).toBe(true);
  });

  it("reads a stream where some producers moved to v2 and others still send v1: the same facts give the same result", () => {
    const all = examples();
    const stream: CanonicalEvent[] = all.map((e, i) =>
      i % 2 === 0 ? v1Event(e.data) : createEvent({ type: V2, source: SOURCE, data: machineStateChangedV1ToV2.upcast(e.data), time: e.data.since })._unsafeUnwrap(),
    );
    const mixed = v2Consumer();
    for (const event of stream) mixed.handle(serializeEvent(event));
    const allV1 = v2Consumer();
    for (const e of all) allV1.handle(serializeEvent(v1Event(e.data)));
    expect(mixed.rejected).toEqual([]);
    expect([...mixed.modes.values()]).toEqual([...allV1.modes.values()]);
    // v2 events are new facts under a new type, so their ids differ from the v1 ids; upcast v1 events keep theirs.
    expect([...mixed.modes.keys()].filter((id, i) => i % 2 === 0)).toEqual([...allV1.modes.keys()].filter((id, i) => i % 2 === 0));
  });
});
