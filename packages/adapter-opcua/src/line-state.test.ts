import { parseMachineState, parseProductionCount } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAdapterConfig, type AdapterConfig } from "./config.js";
import { applyReadings, EMPTY_LINE_STATE, microsToTimestamp, type AdapterEvent, type LineState, type SignalReading } from "./line-state.js";

const T0 = 1772431960125000;
const config: AdapterConfig = parseAdapterConfig({
  endpointUrl: "opc.tcp://127.0.0.1:4840",
  sourceSystem: "urn:plc-line1:opcua-server",
  equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
  countObjectNodeId: "ns=3;s=Line1.Admin",
  signals: [
    { role: "machine_state", nodeId: "ns=3;s=State", mapping: { kind: "packml" } },
    { role: "good_count", nodeId: "ns=3;s=Good" },
    { role: "defective_count", nodeId: "ns=3;s=Bad" },
    { role: "order_number", nodeId: "ns=3;s=Order" },
    { role: "process_value", nodeId: "ns=3;s=Speed", name: "speed" },
  ],
})._unsafeUnwrap();

const r = (nodeId: string, value: unknown, micros: number, severity: SignalReading["severity"] = "good"): SignalReading => ({
  nodeId: `ns=3;s=${nodeId}`,
  value,
  sourceMicros: micros,
  severity,
  status: severity === "good" ? "Good" : "BadSensorFailure",
});

function counts(events: readonly AdapterEvent[]) {
  return events.flatMap((e) => (e.type === "dev.millwright.productioncount.counted.v1" ? [e.data] : []));
}

function baseline(): LineState {
  return applyReadings(config, EMPTY_LINE_STATE, [r("Good", 100, T0), r("Bad", 10, T0), r("Order", "1000123", T0)]).state;
}

describe("microsToTimestamp", () => {
  it("keeps microseconds", () => {
    expect(microsToTimestamp(1772431960125001)).toBe("2026-03-02T06:12:40.125001Z");
  });
});

describe("applyReadings", () => {
  it("takes the first reading as the baseline", () => {
    const step = applyReadings(config, EMPTY_LINE_STATE, [r("Good", 100, T0)]);
    expect(step.events).toEqual([]);
    expect(step.state.counters["ns=3;s=Good"]).toEqual({ value: 100, micros: T0 });
  });

  it("makes one valid count window per source timestamp, attributed to the active order", () => {
    const step = applyReadings(config, baseline(), [r("Good", 105, T0 + 1000), r("Bad", 11, T0 + 1000)]);
    const [count] = counts(step.events);
    expect(count).toMatchObject({
      order: { orderId: "1000123" },
      goodQuantity: { value: "5", unit: "H87" },
      defectiveQuantity: { value: "1", unit: "H87" },
      windowStart: microsToTimestamp(T0),
      windowEnd: microsToTimestamp(T0 + 1000),
      revision: String(T0 + 1000),
    });
    expect(count?.counters).toHaveLength(2);
    expect(parseProductionCount(count)._unsafeUnwrap()).toEqual(count);
  });

  it("is deterministic and a replayed batch makes no second event", () => {
    const batch = [r("Good", 105, T0 + 1000), r("State", 6, T0 + 500)];
    const a = applyReadings(config, baseline(), batch);
    const b = applyReadings(config, baseline(), batch);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.events).toHaveLength(2);
    expect(applyReadings(config, a.state, batch).events).toEqual([]);
  });

  it("gives windows at the same source timestamp distinct, increasing window ends", () => {
    const first = applyReadings(config, baseline(), [r("Good", 105, T0 + 1000)]);
    const second = applyReadings(config, first.state, [r("Bad", 12, T0 + 1000)]);
    const [a] = counts(first.events);
    const [b] = counts(second.events);
    expect(b?.windowStart).toBe(a?.windowEnd);
    expect(b?.windowEnd).toBe(microsToTimestamp(T0 + 1001));
    expect(first.events[0]?.id).not.toBe(second.events[0]?.id);
  });

  it("attributes counts to the order active at their source timestamp", () => {
    const step = applyReadings(config, baseline(), [r("Order", "1000124", T0 + 2000), r("Good", 103, T0 + 1000), r("Good", 110, T0 + 3000)]);
    expect(counts(step.events).map((c) => [c.order?.orderId, c.goodQuantity.value])).toEqual([
      ["1000123", "3"],
      ["1000124", "7"],
    ]);
  });

  it("does not count Bad values, reports them, and catches up on the next good value", () => {
    const bad = applyReadings(config, baseline(), [r("Good", 0, T0 + 1000, "bad")]);
    expect(bad.events).toEqual([]);
    expect(bad.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "bad_status",
          "message": "counter has status BadSensorFailure; not counted (the next good reading catches up)",
          "path": "/signals/ns=3;s=Good",
          "signal": "ns=3;s=Good",
          "value": 0,
        },
      ]
    `);
    const good = applyReadings(config, bad.state, [r("Good", 120, T0 + 2000)]);
    expect(counts(good.events)[0]?.goodQuantity.value).toBe("20");
  });

  it("reports an unexplained decrease instead of counting it", () => {
    const step = applyReadings(config, baseline(), [r("Good", -5, T0 + 1000)]);
    expect(step.events).toEqual([]);
    expect(step.issues[0]?.message).toMatchInlineSnapshot(`"counter fell from 100 to -5 without a detectable reset or rollover; counting continues from -5"`);
  });

  it("subtracts defective parts from a processed counter, carrying a negative remainder", () => {
    const processed = parseAdapterConfig({
      ...config,
      signals: [
        { role: "processed_count", nodeId: "ns=3;s=Good" },
        { role: "defective_count", nodeId: "ns=3;s=Bad" },
      ],
    })._unsafeUnwrap();
    let state = applyReadings(processed, EMPTY_LINE_STATE, [r("Good", 0, T0), r("Bad", 0, T0)]).state;
    const a = applyReadings(processed, state, [r("Bad", 2, T0 + 1000)]);
    state = a.state;
    expect(counts(a.events).map((c) => [c.goodQuantity.value, c.defectiveQuantity.value])).toEqual([["0", "2"]]);
    expect(state.carry).toBe(2);
    const b = applyReadings(processed, state, [r("Good", 5, T0 + 2000)]);
    expect(counts(b.events).map((c) => [c.goodQuantity.value, c.defectiveQuantity.value])).toEqual([["3", "0"]]);
  });

  it("makes valid machine-state events and drops repeats", () => {
    const step = applyReadings(config, baseline(), [r("State", 6, T0 + 1000), r("State", 6, T0 + 1500), r("State", 11, T0 + 2000)]);
    const states = step.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [e.data] : []));
    expect(states.map((s) => [s.packmlState, s.availability])).toEqual([
      ["execute", "executing"],
      ["held", "not_executing"],
    ]);
    for (const s of states) expect(parseMachineState(s).isOk()).toBe(true);
    expect(states[0]).toMatchObject({ order: { orderId: "1000123" }, sourceRefs: [{ kind: "PackMLBaseStateMachineType", key: "ns=3;s=State" }] });
  });

  it("reports a Bad state as not_available and an unmapped state as an issue", () => {
    const step = applyReadings(config, baseline(), [r("State", 0, T0 + 1000, "bad"), r("State", 18, T0 + 2000)]);
    expect(step.events.map((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? e.data.availability : ""))).toEqual(["not_available"]);
    expect(step.issues.map((i) => i.code)).toEqual(["bad_status", "unmapped_state"]);
  });

  it("accepts the unchanged state again after it was unreadable, as of the loss", () => {
    const running = applyReadings(config, baseline(), [r("State", 6, T0 + 1000)]);
    const lost = applyReadings(config, running.state, [r("State", null, T0 + 5000, "bad")]);
    const back = applyReadings(config, lost.state, [r("State", 6, T0 + 1000)]);
    const states = [...running.events, ...lost.events, ...back.events].flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [e.data] : []));
    expect(states.map((d) => [d.availability, d.since, d.revision])).toEqual([
      ["executing", microsToTimestamp(T0 + 1000), String(T0 + 1000)],
      ["not_available", microsToTimestamp(T0 + 5000), String(T0 + 5000)],
      ["executing", microsToTimestamp(T0 + 5000), String(T0 + 5001)],
    ]);
    expect(back.issues).toEqual([]);
  });

  it("passes process values through", () => {
    expect(applyReadings(config, baseline(), [r("Speed", 12.5, T0)]).processValues).toEqual([{ name: "speed", nodeId: "ns=3;s=Speed", value: 12.5, time: microsToTimestamp(T0) }]);
  });

  it("adds up to the parts made for any batching, Bad values and wraps; ids are unique (property)", () => {
    const step = fc.record({ good: fc.nat(1000), defective: fc.nat(5), bad: fc.boolean(), order: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), fc.array(step, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(5), { maxLength: 40 }), (start, steps, cuts) => {
        let good = start;
        let defective = 0;
        let t = T0;
        const readings: SignalReading[] = [r("Good", good, t), r("Bad", defective, t)];
        let made = { good: 0, defective: 0 };
        steps.forEach((s, i) => {
          t += 1000;
          good = (good + s.good) | 0;
          defective += s.defective;
          made = { good: made.good + s.good, defective: made.defective + s.defective };
          if (s.order) readings.push(r("Order", `ORD${i}`, t));
          readings.push(s.bad ? r("Good", 0, t, "bad") : r("Good", good, t), r("Bad", defective, t));
        });
        readings.push(r("Good", good, t + 1000));
        let state = EMPTY_LINE_STATE;
        const events: AdapterEvent[] = [];
        let at = 0;
        for (const cut of [...cuts, readings.length]) {
          const batch = readings.slice(at, at + cut + 1);
          at += batch.length;
          const out = applyReadings(config, state, batch);
          state = out.state;
          events.push(...out.events);
          if (at >= readings.length) break;
        }
        if (at < readings.length) events.push(...applyReadings(config, state, readings.slice(at)).events);
        const total = counts(events).reduce((acc, c) => ({ good: acc.good + Number(c.goodQuantity.value), defective: acc.defective + Number(c.defectiveQuantity.value) }), { good: 0, defective: 0 });
        expect(total).toEqual(made);
        expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      }),
      { numRuns: 60 },
    );
  });
});
