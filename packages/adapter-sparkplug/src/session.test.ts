import { applyReadings, EMPTY_LINE_STATE, type AdapterEvent, type LineState } from "@millwright/adapter-kit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lineKey, parseSparkplugHostConfig, toLineConfig } from "./config.js";
import { toLineReadings } from "./mapping.js";
import { encodeSparkplugPayload, type OutgoingMetric } from "./payload.js";
import { SessionTable } from "./session.js";
import { parseSparkplugTopic } from "./topic.js";

const config = parseSparkplugHostConfig({
  brokerUrl: "mqtt://127.0.0.1:1883",
  groupId: "g",
  hostId: "h",
  rebirthRetryMs: 100,
  lines: [
    {
      edgeNodeId: "e",
      equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
      signals: [
        { role: "machine_state", metric: "State", mapping: { kind: "packml" } },
        { role: "good_count", metric: "Good" },
      ],
    },
  ],
})._unsafeUnwrap();
const line = config.lines[0];
if (line === undefined) throw new TypeError("one line");
const core = toLineConfig(line);
const key = lineKey(line);

type Op =
  | { readonly kind: "make"; readonly parts: number; readonly delivery: "deliver" | "drop" | "swap" }
  | { readonly kind: "death" }
  | { readonly kind: "reconnect" }
  | { readonly kind: "hostRestart" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("make" as const), parts: fc.integer({ min: 1, max: 5 }), delivery: fc.constantFrom("deliver", "deliver", "deliver", "drop", "swap") as fc.Arbitrary<"deliver" | "drop" | "swap"> }) },
  { weight: 1, arbitrary: fc.constant({ kind: "death" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reconnect" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "hostRestart" as const }) },
);

/**
 * A simulated edge node and host: the session table, the mapping and the counter core, fed with
 * encoded payloads in the order the "broker" delivers them; the node answers each rebirth request.
 */
function simulate(ops: readonly Op[]): { made: number; counted: number; ids: string[]; rebirths: number } {
  let clock = 1_772_431_960_000;
  let sessions = new SessionTable(config.rebirthRetryMs);
  let state: LineState = EMPTY_LINE_STATE;
  const events: AdapterEvent[] = [];
  let made = 0;
  let bdSeq = 0;
  let seq = 0;
  let rebirths = 0;
  let held: { topic: string; bytes: Uint8Array } | undefined;
  const encode = (metrics: OutgoingMetric[], s?: number) => encodeSparkplugPayload({ timestamp: clock, ...(s === undefined ? {} : { seq: s }), metrics })._unsafeUnwrap();
  const birth = () => {
    seq = 0;
    return { topic: "spBv1.0/g/NBIRTH/e", bytes: encode([{ name: "bdSeq", datatype: "Int64", value: BigInt(bdSeq) }, { name: "State", alias: 1n, datatype: "Int32", value: 6 }, { name: "Good", alias: 2n, datatype: "UInt32", value: made }], 0) };
  };
  const receive = (message: { topic: string; bytes: Uint8Array }): void => {
    clock += 1;
    const topic = parseSparkplugTopic(message.topic);
    if (topic?.kind !== "message") throw new TypeError(message.topic);
    const outcome = sessions.apply(topic, message.bytes, clock);
    const readings = toLineReadings(config.lines, outcome, message.topic).readings.get(key) ?? [];
    const step = applyReadings(core, state, readings);
    state = step.state;
    events.push(...step.events);
    if (outcome.rebirth !== undefined) {
      rebirths += 1;
      receive(birth());
    }
  };
  receive(birth());
  for (const o of ops) {
    clock += 1;
    switch (o.kind) {
      case "make": {
        made += o.parts;
        seq = (seq + 1) % 256;
        const message = { topic: "spBv1.0/g/NDATA/e", bytes: encode([{ alias: 2n, datatype: "UInt32", value: made, timestamp: clock }], seq) };
        if (o.delivery === "drop") break;
        if (o.delivery === "swap" && held === undefined) held = message;
        else {
          receive(message);
          if (held !== undefined) receive(held);
          held = undefined;
        }
        break;
      }
      case "death":
        receive({ topic: "spBv1.0/g/NDEATH/e", bytes: encode([{ name: "bdSeq", datatype: "Int64", value: BigInt(bdSeq) }]) });
        break;
      case "reconnect":
        bdSeq = (bdSeq + 1) % 256;
        receive(birth());
        break;
      case "hostRestart":
        sessions = new SessionTable(config.rebirthRetryMs); // the line state is what the store kept
        break;
    }
  }
  if (held !== undefined) receive(held);
  bdSeq = (bdSeq + 1) % 256;
  receive(birth());
  const counted = events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").reduce((sum, e) => sum + Number((e.data as { goodQuantity: { value: string } }).goodQuantity.value), 0);
  return { made, counted, ids: events.map((e) => e.id), rebirths };
}

describe("host session table with the counter core", () => {
  it("random interleavings of births, data (delivered, lost, reordered), deaths, reconnects and host restarts count every part exactly once", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { made, counted, ids } = simulate(ops);
        expect(counted).toBe(made);
        expect(new Set(ids).size).toBe(ids.length);
      }),
      { numRuns: 200 },
    );
  });

  it("requests a rebirth for a lost message and counts nothing twice on the birth that answers it", () => {
    const { made, counted, rebirths } = simulate([
      { kind: "make", parts: 2, delivery: "deliver" },
      { kind: "make", parts: 3, delivery: "drop" },
      { kind: "make", parts: 1, delivery: "deliver" },
    ]);
    expect({ made, counted, rebirths }).toEqual({ made: 6, counted: 6, rebirths: 1 });
  });
});
