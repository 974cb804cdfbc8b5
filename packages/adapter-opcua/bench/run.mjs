// Bench: 1,000 monitored items (500 machines × good/defective Int32 counter) changing every 100 ms
// on a local node-opcua server. Mode "bare" only counts notifications; mode "adapter" turns each
// into validated canonical ProductionCount events with the adapter's pure core (applyReadings →
// createEvent, which validates the data). Prints events/s, client CPU and memory.
// Usage: node bench/run.mjs [seconds]   (needs `npx tsup` first)
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AttributeIds, ClientMonitoredItemGroup, ClientSubscription, OPCUAClient, TimestampsToReturn } from "node-opcua";
import { applyReadings, EMPTY_LINE_STATE, parseAdapterConfig, toSignalReading } from "../dist/index.js";

const seconds = Number(process.argv[2] ?? 10);
const machines = 500;

async function measure(mode, port) {
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
  await client.connect(`opc.tcp://127.0.0.1:${port}`);
  const session = await client.createSession();
  const sub = ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 10, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 10 });
  const configs = [];
  const states = [];
  for (let m = 0; m < machines; m++) {
    configs.push(
      parseAdapterConfig({
        endpointUrl: `opc.tcp://127.0.0.1:${port}`,
        sourceSystem: "urn:bench:server",
        equipment: { id: `M${m}`, level: "work_cell", site: { id: "1710" } },
        countObjectNodeId: `ns=1;s=M${m}`,
        signals: [
          { role: "good_count", nodeId: `ns=1;s=M${m}.Good` },
          { role: "defective_count", nodeId: `ns=1;s=M${m}.Defective` },
        ],
      })._unsafeUnwrap(),
    );
    states.push(EMPTY_LINE_STATE);
  }
  const items = [];
  for (let m = 0; m < machines; m++) for (const k of ["Good", "Defective"]) items.push({ nodeId: `ns=1;s=M${m}.${k}`, attributeId: AttributeIds.Value });
  const group = ClientMonitoredItemGroup.create(sub, items, { samplingInterval: 100, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
  let notifications = 0;
  let events = 0;
  let invalid = 0;
  let counting = false;
  let pending = new Map();
  group.on("changed", (item, dv) => {
    if (!counting) return;
    notifications++;
    if (mode === "adapter") {
      const nodeId = item.itemToMonitor.nodeId.toString();
      const m = Number(nodeId.slice(nodeId.indexOf("M") + 1, nodeId.lastIndexOf(".")));
      let batch = pending.get(m);
      if (batch === undefined) pending.set(m, (batch = []));
      batch.push(toSignalReading(nodeId, dv, Date.now()));
    }
  });
  // One drain per publish cycle: all readings of a machine in one batch, as the runtime does.
  const drain = setInterval(() => {
    const work = pending;
    pending = new Map();
    for (const [m, batch] of work) {
      const step = applyReadings(configs[m], states[m], batch);
      states[m] = step.state;
      events += step.events.length;
      invalid += step.issues.length;
    }
  }, 50);
  await new Promise((r) => setTimeout(r, 2000));
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(drain);
  const mem = process.memoryUsage();
  await sub.terminate();
  await session.close();
  await client.disconnect();
  return {
    mode,
    notificationsPerSecond: Math.round(notifications / elapsed),
    eventsPerSecond: Math.round(events / elapsed),
    issues: invalid,
    cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 1000) / 10,
    rssMB: Math.round(mem.rss / 1e6),
    heapUsedMB: Math.round(mem.heapUsed / 1e6),
  };
}

const child = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), { stdio: ["ignore", "ignore", "inherit", "ipc"] });
const { port, items } = await new Promise((resolve) => child.once("message", resolve));
const bare = await measure("bare", port);
const adapter = await measure("adapter", port);
child.send("stop");
console.log(JSON.stringify({ items, seconds, bare, adapter, cpuRatio: Math.round((adapter.cpuPercentOfOneCore / bare.cpuPercentOfOneCore) * 100) / 100 }, null, 2));
