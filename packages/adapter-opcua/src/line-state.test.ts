import { parseMachineState, parseProductionCount } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAdapterConfig, type AdapterConfig } from "./config.js";
import type { AdapterIssue } from "./errors.js";
import { applyReadings, EMPTY_LINE_STATE, mergeCounterReadings, microsToTimestamp, type AdapterEvent, type LineState, type SignalReading } from "@millwright/adapter-kit";

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

  it("counts the reset of a signed counter that is negative after a rollover as a reset", () => {
    const wrapped = applyReadings(config, baseline(), [r("Good", -2147483000, T0 + 1000)]).state;
    const step = applyReadings(config, wrapped, [r("Good", 0, T0 + 2000)]);
    const [count] = counts(step.events);
    expect(count?.goodQuantity.value).toBe("0");
    expect(count?.counters).toEqual([{ signal: "ns=3;s=Good", role: "good", from: -2147483000, to: 0, reset: true, rollover: false }]);
    expect(step.issues).toEqual([]);
  });

  it("reports a preset (a rise beyond the margin) as counter_jumped, counts nothing and continues from the new value", () => {
    const step = applyReadings(config, baseline(), [r("Good", 5_000_000, T0 + 1000)]);
    expect(step.events).toEqual([]);
    expect(step.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "counter_jumped",
          "message": "counter rose from 100 to 5000000, more than the 1000000 parts it can count between two readings (a preset?); not counted, counting continues from 5000000",
          "path": "/signals/ns=3;s=Good",
          "signal": "ns=3;s=Good",
          "value": {
            "from": 100,
            "margin": 1000000,
            "to": 5000000,
          },
        },
      ]
    `);
    const next = applyReadings(config, step.state, [r("Good", 5_000_007, T0 + 2000)]);
    expect(counts(next.events)[0]?.goodQuantity.value).toBe("7");
  });

  it("takes a counter drop during a PackML Resetting or Clearing state for a reset", () => {
    const negative = applyReadings(config, baseline(), [r("Good", -5, T0 + 1000)]).state;
    // Without the machine's reset signal, −5 → 3 is production through zero.
    expect(counts(applyReadings(config, negative, [r("Good", 3, T0 + 3000)]).events)[0]?.goodQuantity.value).toBe("8");
    // Resetting seen in an earlier batch, the drop in a later one: a reset, 3 parts since.
    const resetting = applyReadings(config, negative, [r("State", 15, T0 + 2000)]).state;
    const [reset] = counts(applyReadings(config, resetting, [r("Good", 3, T0 + 3000)]).events);
    expect([reset?.goodQuantity.value, reset?.counters?.[0]?.reset]).toEqual(["3", true]);
    // Clearing at the same time as the drop counts too.
    const [cleared] = counts(applyReadings(config, negative, [r("Good", 3, T0 + 3000), r("State", 1, T0 + 3000)]).events);
    expect([cleared?.goodQuantity.value, cleared?.counters?.[0]?.reset]).toEqual(["3", true]);
  });

  it("does not take a Resetting state that ended before the counter's last reading for a reset", () => {
    const before = applyReadings(config, baseline(), [r("State", 15, T0 + 1000), r("State", 4, T0 + 1500), r("Good", -5, T0 + 2000)]).state;
    expect(counts(applyReadings(config, before, [r("Good", 3, T0 + 3000)]).events)[0]?.goodQuantity.value).toBe("8");
  });

  it("counts without a count object, naming each counter variable as a source", () => {
    const { countObjectNodeId: _object, countObjectKind: _kind, ...rest } = config;
    const plain: AdapterConfig = rest;
    const step = applyReadings(plain, applyReadings(plain, EMPTY_LINE_STATE, [r("Good", 1, T0), r("Bad", 0, T0)]).state, [r("Good", 4, T0 + 1000)]);
    const [count] = counts(step.events);
    expect(count?.sourceRefs).toEqual([
      { system: "urn:plc-line1:opcua-server", kind: "CounterVariable", key: "ns=3;s=Good" },
      { system: "urn:plc-line1:opcua-server", kind: "CounterVariable", key: "ns=3;s=Bad" },
    ]);
    expect(parseProductionCount(count)._unsafeUnwrap()).toEqual(count);
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

  it("adds up to the parts made for any batching, Bad values, wraps, resets and presets; each preset is reported; ids are unique (property)", () => {
    const step = fc.record({ good: fc.nat(1000), defective: fc.nat(5), bad: fc.boolean(), order: fc.boolean(), change: fc.constantFrom("none", "none", "none", "reset", "preset") });
    fc.assert(
      fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), fc.array(step, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(5), { maxLength: 40 }), (start, steps, cuts) => {
        let good = start;
        let defective = 0;
        let t = T0;
        const readings: SignalReading[] = [r("Good", good, t), r("Bad", defective, t)];
        let made = { good: 0, defective: 0 };
        let presets = 0;
        let seen = true; // the adapter saw the counter's last value
        steps.forEach((s, i) => {
          t += 1000;
          if (s.order) readings.push(r("Order", `ORD${i}`, t));
          // A reset (PackML Resetting, then the PLC zeroes the counter) or a preset happens right
          // after a reading the adapter saw; a preset makes no part.
          if (s.change === "reset" && seen) {
            readings.push(r("State", 15, t - 500), r("Good", 0, t - 500), r("State", 6, t - 400));
            good = 0;
          }
          const preset = s.change === "preset" && seen && good >= 0 && good <= 2147483647 - 3_000_000;
          if (preset) {
            good += 2_000_000;
            presets++;
          } else {
            good = (good + s.good) | 0;
            made = { good: made.good + s.good, defective: made.defective };
          }
          defective += s.defective;
          made = { good: made.good, defective: made.defective + s.defective };
          const bad = s.bad && !preset;
          readings.push(bad ? r("Good", 0, t, "bad") : r("Good", good, t), r("Bad", defective, t));
          seen = !bad;
        });
        readings.push(r("Good", good, t + 1000));
        let state = EMPTY_LINE_STATE;
        const events: AdapterEvent[] = [];
        const issues: AdapterIssue[] = [];
        let at = 0;
        for (const cut of [...cuts, readings.length]) {
          const batch = readings.slice(at, at + cut + 1);
          at += batch.length;
          const out = applyReadings(config, state, batch);
          state = out.state;
          events.push(...out.events);
          issues.push(...out.issues);
          if (at >= readings.length) break;
        }
        if (at < readings.length) {
          const out = applyReadings(config, state, readings.slice(at));
          events.push(...out.events);
          issues.push(...out.issues);
        }
        const total = counts(events).reduce((acc, c) => ({ good: acc.good + Number(c.goodQuantity.value), defective: acc.defective + Number(c.defectiveQuantity.value) }), { good: 0, defective: 0 });
        expect(total).toEqual(made);
        expect(issues.filter((i) => i.code === "counter_jumped")).toHaveLength(presets);
        expect(issues.filter((i) => i.code === "counter_decreased")).toEqual([]);
        expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      }),
      { numRuns: 100 },
    );
  });

  it("merging waiting counter readings counts the same parts as applying them all, around resets, rollovers and presets (property)", () => {
    type Op = { readonly kind: "produce" | "reset" | "preset" | "bad" | "resetting" | "execute"; readonly n: number };
    const op = fc.record({ kind: fc.constantFrom<Op["kind"]>("produce", "produce", "produce", "reset", "preset", "bad", "resetting", "execute"), n: fc.nat(40) });
    const start = fc.oneof(fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: 2147483600, max: 2147483647 }), fc.integer({ min: -60, max: 0 }));
    fc.assert(
      fc.property(fc.boolean(), start, fc.array(op, { maxLength: 40 }), (hasBaseline, first, ops) => {
        let value = first;
        let t = T0;
        const readings: SignalReading[] = [];
        for (const o of ops) {
          t += 1000;
          if (o.kind === "produce") value = (value + o.n) | 0;
          else if (o.kind === "reset") value = o.n;
          else if (o.kind === "preset") value = (value + 3_000_000 + o.n) | 0;
          if (o.kind === "resetting" || o.kind === "execute") readings.push(r("State", o.kind === "resetting" ? 15 : 6, t));
          else readings.push(o.kind === "bad" ? r("Good", 0, t, "bad") : r("Good", value, t));
        }
        const state = hasBaseline ? applyReadings(config, EMPTY_LINE_STATE, [r("Good", first, T0)]).state : EMPTY_LINE_STATE;
        const total = (events: readonly AdapterEvent[]) => counts(events).reduce((sum, c) => sum + Number(c.goodQuantity.value), 0);
        const all = applyReadings(config, state, readings);
        const merged = applyReadings(config, state, mergeCounterReadings(config, state.counters, readings));
        expect(total(merged.events)).toBe(total(all.events));
        expect(merged.state.counters["ns=3;s=Good"]?.value).toBe(all.state.counters["ns=3;s=Good"]?.value);
      }),
      { numRuns: 300 },
    );
  });
});
