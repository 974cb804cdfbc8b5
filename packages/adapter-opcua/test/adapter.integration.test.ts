import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMachineState, parseProductionCount } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { parseAdapterConfig, type AdapterConfig } from "../src/config.js";
import type { AdapterIssue } from "../src/errors.js";
import type { AdapterEvent } from "@millwright/adapter-kit";
import type { ConnectionStatus } from "../src/connection.js";
import { startOpcuaAdapter, type OpcuaAdapter } from "../src/runtime.js";
import { createMemoryCounterStore, type CounterStateStore } from "@millwright/adapter-kit";
import { createSqliteCounterStore } from "../src/state-store.js";
import { CuttableProxy, delay, NODES, run, SimulatedLine } from "../src/test-server/index.js";
import { defaultSqliteDriver } from "./sqlite-drivers.js";

function configFor(
  endpointUrl: string,
  options: { readonly samplingInterval?: number; readonly stateNodeId?: string; readonly equipmentId?: string; readonly publishingInterval?: number; readonly goodNodeId?: string } = {},
): AdapterConfig {
  const samplingInterval = options.samplingInterval ?? 0;
  return parseAdapterConfig({
    endpointUrl,
    sourceSystem: "urn:test:line1",
    equipment: { id: options.equipmentId ?? "LINE1", level: "production_line", site: { id: "1710" } },
    countObjectNodeId: NODES.admin,
    publishingInterval: options.publishingInterval ?? 50,
    signals: [
      { role: "machine_state", nodeId: options.stateNodeId ?? NODES.state, mapping: { kind: "packml" }, samplingInterval },
      { role: "good_count", nodeId: options.goodNodeId ?? NODES.good, samplingInterval },
      { role: "defective_count", nodeId: NODES.defective, samplingInterval },
      { role: "order_number", nodeId: NODES.order, samplingInterval },
      { role: "process_value", nodeId: NODES.speed, name: "speed", samplingInterval },
    ],
  })._unsafeUnwrap();
}

interface Harness {
  readonly adapter: OpcuaAdapter;
  readonly events: AdapterEvent[];
  readonly issues: AdapterIssue[];
  /** Every connection status the adapter reported, in order. */
  readonly statuses: ConnectionStatus[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startHarness(
  endpointUrl: string,
  store: CounterStateStore,
  sink?: Harness,
  handler?: (event: AdapterEvent) => Promise<void>,
  maxBufferedReadings?: number,
  config: AdapterConfig = configFor(endpointUrl),
  shareConnection?: boolean,
): Promise<Harness> {
  const events = sink?.events ?? [];
  const issues = sink?.issues ?? [];
  const statuses = sink?.statuses ?? [];
  const adapter = (
    await startOpcuaAdapter({
      config,
      store,
      handler:
        handler ??
        ((event) => {
          events.push(event);
        }),
      onIssue: (issue) => issues.push(issue),
      onStatus: (status) => statuses.push(status),
      reconnectDelay: { initial: 100, max: 500 },
      ...(maxBufferedReadings === undefined ? {} : { maxBufferedReadings }),
      ...(shareConnection === undefined ? {} : { shareConnection }),
    })
  )._unsafeUnwrap();
  cleanups.push(async () => {
    await adapter.stop();
  });
  await waitFor(() => adapter.status() === "connected", 10_000);
  return { adapter, events, issues, statuses };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await delay(25);
  }
}

/**
 * Waits until the adapter has caught up with the standing line: with `line`, until the counted
 * totals equal the parts made (a later over-count still fails the final assertion); then a quiet
 * period for stray notifications.
 */
async function settle(h: Harness, line?: SimulatedLine): Promise<void> {
  if (line !== undefined) {
    const end = Date.now() + 10_000;
    while (Date.now() < end && JSON.stringify(totals(h.events)) !== JSON.stringify(line.made)) await delay(25);
  }
  await delay(200);
  await h.adapter.idle();
}

function totals(events: readonly AdapterEvent[]): { good: number; defective: number } {
  let good = 0;
  let defective = 0;
  for (const e of events) {
    if (e.type !== "dev.millwright.productioncount.counted.v1") continue;
    good += Number(e.data.goodQuantity.value);
    defective += Number(e.data.defectiveQuantity.value);
  }
  return { good, defective };
}

function expectCleanRun(h: Harness, line: SimulatedLine): void {
  expect(totals(h.events)).toEqual(line.made);
  const ids = h.events.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const e of h.events) {
    if (e.type === "dev.millwright.productioncount.counted.v1") expect(parseProductionCount(e.data).isOk()).toBe(true);
    else expect(parseMachineState(e.data).isOk()).toBe(true);
  }
  const states = h.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [Number(e.data.sourceState?.value)] : []));
  // Every state the line entered arrives, in order (the first is the state at connect time).
  if (line.states.length > 0) expect(states.slice(-line.states.length)).toEqual(line.states);
  const revisions = h.events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => BigInt(e.data.revision));
  expect(revisions).toEqual([...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function startLine(initial: ConstructorParameters<typeof SimulatedLine>[0] = {}): Promise<SimulatedLine> {
  const line = new SimulatedLine(initial);
  await line.start();
  cleanups.push(() => line.stop());
  return line;
}

describe("adapter against a real node-opcua server", () => {
  it("counts a run with state changes, an order change and a counter reset", async () => {
    const line = await startLine({ order: "1000123", state: 4 });
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore());
    await settle(h, line);
    line.setState(6);
    await run(line, 20, 20);
    await settle(h, line);
    line.setState(15); // PackML Resetting: the PLC zeroes its counters
    line.resetCounters();
    await delay(150);
    line.setState(6);
    await run(line, 20, 20);
    await settle(h, line);
    line.setState(4);
    const beforeOrder = line.made.good;
    line.setOrder("1000124");
    await settle(h, line);
    line.setState(6);
    await run(line, 10, 20);
    await settle(h, line);
    expectCleanRun(h, line);
    const counts = h.events.flatMap((e) => (e.type === "dev.millwright.productioncount.counted.v1" ? [e.data] : []));
    expect(counts.some((c) => c.counters?.some((r) => r.reset))).toBe(true);
    const byOrder = new Map<string, number>();
    for (const c of counts) byOrder.set(c.order?.orderId ?? "-", (byOrder.get(c.order?.orderId ?? "-") ?? 0) + Number(c.goodQuantity.value));
    expect(byOrder.get("1000124")).toBe(line.made.good - beforeOrder);
    expect(byOrder.get("1000123")).toBe(beforeOrder);
  });

  it("detects the Int32 rollover at 2^31−1", async () => {
    const line = await startLine({ good: 2147483647 - 30, state: 6 });
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore());
    await settle(h, line);
    await run(line, 30, 15);
    await settle(h, line);
    expect(line.values.good).toBeLessThan(0);
    expectCleanRun(h, line);
    const counts = h.events.flatMap((e) => (e.type === "dev.millwright.productioncount.counted.v1" ? [e.data] : []));
    expect(counts.filter((c) => c.counters?.some((r) => r.rollover))).toHaveLength(1);
  });

  it("counts the reset of a counter that is negative after its rollover as a reset", async () => {
    const line = await startLine({ good: 2147483647 - 10, state: 6 });
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore());
    await settle(h, line);
    await run(line, 10, 15);
    await settle(h, line);
    expect(line.values.good).toBeLessThan(0);
    line.setState(15); // PackML Resetting: the PLC zeroes its counters
    line.resetCounters();
    await delay(150);
    line.setState(6);
    await run(line, 10, 15);
    await settle(h, line);
    expectCleanRun(h, line);
    const readings = h.events.flatMap((e) => (e.type === "dev.millwright.productioncount.counted.v1" ? (e.data.counters ?? []) : []));
    expect(readings.filter((r) => r.signal === NODES.good && r.reset && r.from < 0)).toHaveLength(1);
  });

  it("reports a preset of the counter as counter_jumped and counts no part for it", async () => {
    const line = await startLine({ good: 1000, state: 6 });
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore());
    await settle(h, line);
    await run(line, 10, 15);
    await settle(h, line);
    line.presetGood(50_000_000);
    await run(line, 10, 15);
    await settle(h, line);
    expectCleanRun(h, line);
    const jumps = h.issues.filter((i) => i.code === "counter_jumped");
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toMatchObject({ signal: NODES.good, value: { to: 50_000_000, margin: 1_000_000 } });
  });

  it("warns when the server revises a sampling interval upward, and still counts every part", async () => {
    const line = new SimulatedLine({ state: 6 }, { minimumSamplingInterval: 300 });
    await line.start();
    cleanups.push(() => line.stop());
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, configFor(line.endpointUrl, { samplingInterval: 100 }));
    await settle(h, line);
    const revised = h.issues.filter((i) => i.code === "sampling_interval_revised");
    expect(revised.map((i) => i.signal).sort()).toEqual([NODES.defective, NODES.good, NODES.order, NODES.speed, NODES.state].sort());
    expect(revised.find((i) => i.signal === NODES.good)).toMatchObject({ path: `/signals/${NODES.good}/samplingInterval`, value: { requested: 100, revised: 300 } });
    await run(line, 10, 50);
    await settle(h, line);
    expectCleanRun(h, line);
  });

  it("reads the PackML state from the base state machine's CurrentState and takes a drop during Resetting for a reset", async () => {
    // A signed counter just below zero: without the Resetting state, −80 → 0 would read as 80 parts.
    const line = new SimulatedLine({ state: 4, good: -100 }, { stateVariable: "CurrentState" });
    await line.start();
    cleanups.push(() => line.stop());
    expect(line.stateNodeId).not.toBe(NODES.state);
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, configFor(line.endpointUrl, { stateNodeId: line.stateNodeId }));
    await settle(h, line);
    line.setState(6);
    await run(line, 10, 15);
    await settle(h, line);
    line.setState(15);
    line.resetCounters();
    await delay(150);
    line.setState(4);
    line.setState(6);
    await run(line, 10, 15);
    await settle(h, line);
    expectCleanRun(h, line);
    const states = h.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [e.data.packmlState] : []));
    expect(states).toContain("resetting");
    const readings = h.events.flatMap((e) => (e.type === "dev.millwright.productioncount.counted.v1" ? (e.data.counters ?? []) : []));
    expect(readings.filter((r) => r.reset)).not.toHaveLength(0);
  });

  it("does not count Bad-quality values, reports them and catches up", async () => {
    const line = await startLine({ state: 6, good: 500 });
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore());
    await settle(h, line);
    await run(line, 10, 20);
    line.setBad(NODES.good, true);
    await run(line, 10, 20);
    await settle(h);
    line.setBad(NODES.good, false);
    await run(line, 10, 20);
    await settle(h, line);
    expectCleanRun(h, line);
    expect(h.issues.some((i) => i.code === "bad_status" && i.signal === NODES.good)).toBe(true);
    expect(h.issues.some((i) => i.code === "counter_decreased")).toBe(false);
  });

  it("survives a server restart mid-run and an adapter restart without double counting", async () => {
    const line = await startLine({ state: 6, good: 100, defective: 5 });
    const dir = mkdtempSync(join(tmpdir(), "mw-opcua-"));
    const file = join(dir, "state.db");
    const db1 = await defaultSqliteDriver.open(file);
    cleanups.push(async () => {
      rmSync(dir, { recursive: true, force: true });
    });
    const first = await startHarness(line.endpointUrl, createSqliteCounterStore(db1));
    await settle(first, line);
    await run(line, 10, 20);
    const connectsBefore = first.statuses.filter((s) => s === "connected").length;
    await line.stop();
    // The adapter itself noticed the server going away, not just the test.
    await waitFor(() => first.statuses.includes("disconnected"), 15_000);
    await run(line, 10, 20); // the line keeps producing while its server restarts
    await line.start(line.port);
    await waitFor(() => first.adapter.status() === "connected", 15_000);
    await run(line, 10, 20);
    await settle(first, line);
    expect(first.statuses.filter((s) => s === "disconnected").length).toBeGreaterThan(0);
    expect(first.statuses.filter((s) => s === "connected").length).toBeGreaterThan(connectsBefore);
    expect(totals(first.events)).toEqual(line.made);
    // The adapter process restarts; the line produces meanwhile; the stored readings let it catch up.
    (await first.adapter.stop())._unsafeUnwrap();
    db1.close();
    await run(line, 5, 20);
    const db2 = await defaultSqliteDriver.open(file);
    cleanups.push(async () => {
      db2.close();
    });
    const second = await startHarness(line.endpointUrl, createSqliteCounterStore(db2), first);
    await run(line, 10, 20);
    await settle(second, line);
    expectCleanRun(second, line);
  });

  it("shares one session between two lines on one endpoint; both recover after a server restart, and one stopping leaves the other running", async () => {
    const line = await startLine({ state: 6, good: 10 });
    const start = (equipmentId: string): Promise<Harness> =>
      startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, configFor(line.endpointUrl, { equipmentId }));
    const [a, b] = await Promise.all([start("LINE1"), start("LINE2")]);
    await settle(a, line);
    await settle(b, line);
    expect(line.connections).toEqual({ sessions: 1, subscriptions: 1 });
    await run(line, 10, 20);
    await line.stop();
    await waitFor(() => a.adapter.status() !== "connected" && b.adapter.status() !== "connected", 15_000);
    await run(line, 10, 20); // produced while the server is down
    await line.start(line.port);
    await waitFor(() => a.adapter.status() === "connected" && b.adapter.status() === "connected", 15_000);
    await run(line, 10, 20);
    await settle(a, line);
    await settle(b, line);
    expect(line.connections).toEqual({ sessions: 1, subscriptions: 1 });
    for (const h of [a, b]) {
      expect(totals(h.events)).toEqual(line.made);
      const ids = h.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      const availability = h.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [e.data.availability] : []));
      expect(availability).toEqual(["executing", "not_available", "executing"]);
    }
    // Each line's events are its own: the equipment and the ids differ.
    expect(a.events.every((e) => e.data.equipment.id === "LINE1")).toBe(true);
    expect(b.events.every((e) => e.data.equipment.id === "LINE2")).toBe(true);
    expect(a.events.some((e) => b.events.some((f) => f.id === e.id))).toBe(false);
    // One line stops: its items go, the other line keeps the session and counts on.
    (await a.adapter.stop())._unsafeUnwrap();
    const stoppedAt = a.events.length;
    await run(line, 10, 20);
    await settle(b, line);
    expect(totals(b.events)).toEqual(line.made);
    expect(a.events.length).toBe(stoppedAt);
    expect(b.adapter.status()).toBe("connected");
    expect(line.connections.sessions).toBe(1);
  });

  it("shares the session between lines of different publishing intervals (a subscription each), and a line with an unknown node leaves the others counting", async () => {
    const line = await startLine({ state: 6 });
    const a = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, configFor(line.endpointUrl, { equipmentId: "LINE1" }));
    const b = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, configFor(line.endpointUrl, { equipmentId: "LINE2", publishingInterval: 100 }));
    const broken: Harness = { adapter: undefined as unknown as OpcuaAdapter, events: [], issues: [], statuses: [] };
    const c = (
      await startOpcuaAdapter({
        config: configFor(line.endpointUrl, { equipmentId: "LINE3", goodNodeId: "ns=1;s=Line1.Admin.NoSuchCounter" }),
        store: createMemoryCounterStore(),
        handler: (event) => {
          broken.events.push(event);
        },
        onStatus: (status) => broken.statuses.push(status),
        reconnectDelay: { initial: 100, max: 500 },
      })
    )._unsafeUnwrap();
    cleanups.push(async () => {
      await c.stop();
    });
    await settle(a, line);
    await settle(b, line);
    await delay(500);
    expect(line.connections).toEqual({ sessions: 1, subscriptions: 2 });
    await run(line, 10, 20);
    await settle(a, line);
    await settle(b, line);
    expect(totals(a.events)).toEqual(line.made);
    expect(totals(b.events)).toEqual(line.made);
    // The line with the unknown node counts no good part, whatever its status.
    expect(totals(broken.events).good).toBe(0);
    expect(a.adapter.status()).toBe("connected");
    expect(b.adapter.status()).toBe("connected");
  });

  it("saves the lines of one endpoint that share a store together (saveMany), and works with a store that has only save", async () => {
    const line = await startLine({ state: 6 });
    const memory = createMemoryCounterStore();
    const batches: string[][] = [];
    const shared: CounterStateStore = {
      name: "recording",
      load: (key) => memory.load(key),
      save: (key, value) => memory.save(key, value),
      saveMany: (entries) => {
        batches.push(entries.map((entry) => entry.key));
        return memory.saveMany?.(entries) ?? Promise.reject(new Error("the memory store has saveMany"));
      },
    };
    const plainMemory = createMemoryCounterStore();
    const plain: CounterStateStore = { name: "plain", load: (key) => plainMemory.load(key), save: (key, value) => plainMemory.save(key, value) };
    const config = (equipmentId: string): AdapterConfig => configFor(line.endpointUrl, { equipmentId });
    const a = await startHarness(line.endpointUrl, shared, undefined, undefined, undefined, config("LINE1"));
    const b = await startHarness(line.endpointUrl, shared, undefined, undefined, undefined, config("LINE2"));
    const c = await startHarness(line.endpointUrl, plain, undefined, undefined, undefined, config("LINE3"));
    for (const h of [a, b, c]) await settle(h, line);
    await run(line, 10, 20);
    for (const h of [a, b, c]) await settle(h, line);
    expect(line.connections.sessions).toBe(1);
    for (const h of [a, b, c]) expect(totals(h.events)).toEqual(line.made);
    // A publish changes both lines of the shared store: they are written in one call.
    expect(batches.some((keys) => keys.includes("1710/LINE1") && keys.includes("1710/LINE2"))).toBe(true);
    expect(batches.flat().includes("1710/LINE3")).toBe(false);
    // Every acknowledged event is saved as delivered, in either store.
    for (const [store, key] of [[shared, "1710/LINE1"], [shared, "1710/LINE2"], [plain, "1710/LINE3"]] as const) {
      const saved = await store.load(key);
      expect(saved?.pending).toEqual([]);
      expect(saved?.state.windowEndMicros).not.toBeNull();
    }
  });

  it("gives a line its own session with shareConnection: false", async () => {
    const line = await startLine({ state: 6 });
    const config = (equipmentId: string): AdapterConfig => configFor(line.endpointUrl, { equipmentId });
    const a = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, config("LINE1"), false);
    const b = await startHarness(line.endpointUrl, createMemoryCounterStore(), undefined, undefined, undefined, config("LINE2"));
    await settle(a, line);
    await settle(b, line);
    expect(line.connections).toEqual({ sessions: 2, subscriptions: 2 });
    await run(line, 5, 20);
    await settle(a, line);
    await settle(b, line);
    expect(totals(a.events)).toEqual(line.made);
    expect(totals(b.events)).toEqual(line.made);
  });

  it("catches up after the connection is cut for several seconds while the line produces", async () => {
    const line = await startLine({ state: 6 });
    const proxy = new CuttableProxy(line.port);
    await proxy.listen();
    cleanups.push(() => proxy.cut());
    const h = await startHarness(`opc.tcp://127.0.0.1:${proxy.port}`, createMemoryCounterStore());
    await settle(h, line);
    await run(line, 10, 20);
    await settle(h, line);
    await proxy.cut();
    await waitFor(() => h.adapter.status() !== "connected", 5_000);
    line.setState(11);
    await run(line, 20, 100); // two seconds of production while disconnected
    line.setState(6);
    await delay(1_000);
    await proxy.listen(proxy.port);
    await waitFor(() => h.adapter.status() === "connected", 15_000);
    await run(line, 10, 20);
    await settle(h, line);
    expect(totals(h.events)).toEqual(line.made);
    const ids = h.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The cut is reported as not_available; after the reconnect the line is executing again.
    const availability = h.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [e.data.availability] : []));
    expect(availability).toEqual(["executing", "not_available", "executing"]);
    const stateRevisions = h.events.flatMap((e) => (e.type === "dev.millwright.machinestate.changed.v1" ? [BigInt(e.data.revision)] : []));
    expect(stateRevisions).toEqual([...stateRevisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it("retries a failing, slow handler in order, merging buffered counter readings, without losing or repeating parts", async () => {
    const line = await startLine({ state: 4, order: "1000200" });
    let calls = 0;
    const sink: Harness = { adapter: undefined as unknown as OpcuaAdapter, events: [], issues: [], statuses: [] };
    const h = await startHarness(line.endpointUrl, createMemoryCounterStore(), sink, async (event) => {
      calls++;
      await delay(20);
      if (calls % 3 === 0) throw new Error("consumer busy");
      sink.events.push(event);
    }, 4);
    await settle(h, line);
    line.setState(6);
    await run(line, 30, 10);
    line.setState(11);
    await delay(1_000);
    await settle(h, line);
    expectCleanRun(h, line);
    expect(h.issues.some((i) => i.code === "handler_failed")).toBe(true);
    (await h.adapter.stop())._unsafeUnwrap();
    expect((await h.adapter.stop())._unsafeUnwrapErr().code).toBe("already_stopped");
  });
});
