/**
 * OPC UA line counting.
 *
 * A packaging line's PLC exposes PackML counters over OPC UA: cumulative Int32 `ProdGoodCount` and
 * `ProdDefectiveCount` that wrap at 2^31 and are zeroed by a PackML Reset. The OPC UA adapter
 * subscribes to them and turns their changes into canonical `productioncount.counted` events with
 * exact deltas, attributed to the order running on the line.
 *
 * The line here is the adapter's simulated line: a real node-opcua server in this process, running
 * the PackML companion nodeset. Point `endpointUrl` and the node ids at your PLC instead.
 *
 * Run: `pnpm start` (writes out/events.ndjson and prints the counts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter, type AdapterEvent, type AdapterIssue } from "@millwright/adapter-opcua";
import { NODES, SimulatedLine } from "@millwright/adapter-opcua/test-server";
import { serializeEvent } from "@millwright/events";
import { sumQuantities, type MachineState, type ProductionCount } from "@millwright/model";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PACKML = { resetting: 15, idle: 4, execute: 6, complete: 17 } as const;

function describe(event: AdapterEvent): string {
  if (event.type === "dev.millwright.machinestate.changed.v1") {
    const state = event.data as MachineState;
    return `state   ${state.availability} (PackML ${state.packmlState ?? "?"})`;
  }
  const count = event.data as ProductionCount;
  const flags = (count.counters ?? []).flatMap((c) => [c.rollover ? `${c.role} rollover` : "", c.reset ? `${c.role} reset` : ""]).filter((f) => f !== "");
  return `counted ${count.goodQuantity.value} good, ${count.defectiveQuantity.value} defective for order ${count.order?.orderId ?? "none"}${flags.length > 0 ? ` (${flags.join(", ")})` : ""}`;
}

async function main(): Promise<number> {
  // The PLC's good counter is close to the Int32 maximum: the first parts of this shift wrap it.
  const line = new SimulatedLine({ good: 2_147_483_600, defective: 10, state: PACKML.idle, order: "1000123" });
  // The PLC stamps every value with its source timestamp; here a shift's clock, one minute per step,
  // so the run gives the same windows (and the same event ids) every time.
  let now = Date.parse("2026-03-02T06:00:00Z");
  line.clock = () => new Date(now);
  const step = () => {
    now += 60_000;
  };
  await line.start();
  console.log(`line LINE1 on ${line.endpointUrl} (PackML nodeset), good counter at ${line.values.good}`);

  const config = parseAdapterConfig({
    endpointUrl: line.endpointUrl,
    sourceSystem: "urn:millwright:opcua:line1",
    equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
    countObjectNodeId: NODES.admin,
    publishingInterval: 50,
    signals: [
      { role: "machine_state", nodeId: NODES.state, mapping: { kind: "packml" }, samplingInterval: 0 },
      { role: "good_count", nodeId: NODES.good, samplingInterval: 0 },
      { role: "defective_count", nodeId: NODES.defective, samplingInterval: 0 },
      { role: "order_number", nodeId: NODES.order, samplingInterval: 0 },
    ],
  });
  if (config.isErr()) {
    for (const i of config.error.issues) console.log(`config ${i.code} at ${i.path}: ${i.rule}`);
    await line.stop();
    return 1;
  }

  const events: AdapterEvent[] = [];
  const issues: AdapterIssue[] = [];
  const started = await startOpcuaAdapter({
    config: config.value,
    store: createMemoryCounterStore(), // createSqliteCounterStore(db) keeps counts across restarts
    handler: (event) => {
      events.push(event);
      console.log(`  ${describe(event)}`);
    },
    onIssue: (issue) => issues.push(issue),
    reconnectDelay: { initial: 100, max: 500 },
  });
  if (started.isErr()) {
    console.log(`adapter: ${started.error.code}: ${started.error.message}`);
    await line.stop();
    return 1;
  }
  const adapter = started.value;
  try {
    for (let i = 0; adapter.status() !== "connected"; i++) {
      if (i > 200) throw new Error("the OPC UA adapter did not connect to the line");
      await sleep(25);
    }
    console.log("adapter connected; the line starts order 1000123");
    line.resetTally();
    step();
    line.setState(PACKML.execute);
    // Each step: parts made between two readings. The second wraps the good counter past 2^31 − 1.
    for (const [good, defective] of [[40, 1], [60, 0], [35, 2]] as const) {
      await sleep(150);
      step();
      line.produce(good, defective);
    }
    await sleep(150);
    console.log("operator resets the line (PackML Resetting): the PLC zeroes its counters");
    step();
    line.setState(PACKML.resetting);
    await sleep(150);
    step();
    line.resetCounters();
    await sleep(150);
    step();
    line.setState(PACKML.execute);
    await sleep(150);
    step();
    line.produce(25, 1);
    await sleep(150);
    step();
    line.setState(PACKML.complete);
    await sleep(200);
    await adapter.idle();
  } finally {
    await adapter.stop();
    await line.stop();
  }

  const counts = events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => e.data as ProductionCount);
  const good = sumQuantities(counts.map((c) => c.goodQuantity), "H87");
  const defective = sumQuantities(counts.map((c) => c.defectiveQuantity), "H87");
  if (good.isErr() || defective.isErr()) {
    console.log(`sum: ${good.isErr() ? good.error.message : ""}${defective.isErr() ? defective.error.message : ""}`);
    return 1;
  }
  console.log(`line made ${line.made.good} good, ${line.made.defective} defective; adapter counted ${good.value.value} good, ${defective.value.value} defective in ${counts.length} windows`);
  for (const i of issues) console.log(`issue ${i.code}: ${i.message}`);

  const out = join(import.meta.dirname, "..", "out");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "events.ndjson"), events.map((e) => `${serializeEvent(e)}\n`).join(""));
  console.log(`wrote out/events.ndjson (${events.length} events)`);
  return good.value.value === String(line.made.good) && defective.value.value === String(line.made.defective) ? 0 : 1;
}

process.exitCode = await main();
