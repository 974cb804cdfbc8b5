// Bench of issue 16's OPC UA row: client CPU of the real adapter path (`startOpcuaAdapter`, one
// adapter per machine, each with its own client, session and subscription, memory store, a handler
// that counts) against a bare node-opcua subscription of the same items, on a local node-opcua
// server (its own process, so the client's CPU figures are the client's alone). Each machine has a
// good and a defective Int32 counter changing every 100 ms (sampling and publishing 100 ms).
// Modes, measured in one process, in rounds that alternate their order:
//   bare      one client, one subscription of every item, counting notifications (a hand-written client);
//   sessions  one client + subscription per machine, counting notifications: the adapter's connection
//             layout without the adapter (separates the cost of a session per line from the adapter's);
//   adapter   one `startOpcuaAdapter` per machine.
// CPU is process.cpuUsage over a fixed window after a warm-up; the ratio is adapter ÷ bare CPU per
// notification, so a server that falls behind under load does not flatter either side.
// Usage: node --conditions=@millwright/source --expose-gc --import tsx bench/run.mjs [--quick] [--out file.json] [--machines N] [--seconds S] [--rounds R]
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { AttributeIds, ClientMonitoredItemGroup, ClientSubscription, OPCUAClient, TimestampsToReturn } from "node-opcua";
import { createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter } from "../src/index.ts";

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const quick = argv.includes("--quick");
const out = option("--out", undefined);
const machines = Number(option("--machines", quick ? 25 : 500));
const seconds = Number(option("--seconds", quick ? 4 : 10));
const rounds = Number(option("--rounds", quick ? 1 : 2));
const loadBefore = loadavg()[0];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` for each of `count`, `width` at a time. */
async function inBatches(count, width, task) {
  const results = [];
  for (let i = 0; i < count; i += width) results.push(...(await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, j) => task(i + j)))));
  return results;
}

async function bareClient(endpoint, nodeIds, onChange) {
  // Generous timeouts: the bench also runs on loaded machines, where setting up many sessions is slow.
  const client = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 3 }, defaultTransactionTimeout: 120_000 });
  await client.connect(endpoint);
  const session = await client.createSession();
  const sub = ClientSubscription.create(session, { requestedPublishingInterval: 100, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 10, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 10 });
  sub.on("error", (error) => console.error(`bench: subscription error: ${error.message}`));
  const items = nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value }));
  const group = ClientMonitoredItemGroup.create(sub, items, { samplingInterval: 100, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
  group.on("changed", onChange);
  await new Promise((resolve) => group.once("initialized", resolve));
  return async () => {
    await sub.terminate();
    await session.close();
    await client.disconnect();
  };
}

const nodeIdsOf = (m) => [`ns=1;s=M${m}.Good`, `ns=1;s=M${m}.Defective`];

/** Sets a mode up, waits 2 s, measures CPU over the window, tears it down. */
async function measure(mode, endpoint) {
  let notifications = 0;
  let events = 0;
  let issues = 0;
  const count = () => {
    notifications++;
  };
  let stops;
  if (mode === "bare") {
    stops = [await bareClient(endpoint, Array.from({ length: machines }, (_, m) => nodeIdsOf(m)).flat(), count)];
  } else if (mode === "sessions") {
    stops = await inBatches(machines, 5, (m) => bareClient(endpoint, nodeIdsOf(m), count));
  } else {
    stops = await inBatches(machines, 5, async (m) => {
      const config = parseAdapterConfig({
        endpointUrl: endpoint,
        sourceSystem: "urn:bench:server",
        equipment: { id: `M${m}`, level: "work_cell", site: { id: "1710" } },
        countObjectNodeId: `ns=1;s=M${m}`,
        publishingInterval: 100,
        signals: nodeIdsOf(m).map((nodeId, i) => ({ role: i === 0 ? "good_count" : "defective_count", nodeId, samplingInterval: 100, queueSize: 10 })),
      })._unsafeUnwrap();
      let connected;
      const ready = new Promise((resolve) => (connected = resolve));
      const adapter = (
        await startOpcuaAdapter({
          config,
          store: createMemoryCounterStore(),
          // Each count event lists the counter readings it counted: the notifications the adapter turned into events.
          handler: (event) => {
            events++;
            notifications += event.data.counters?.length ?? 0;
          },
          onIssue: () => {
            issues++;
          },
          onStatus: (status) => {
            if (status === "connected") connected();
          },
        })
      )._unsafeUnwrap();
      await ready;
      return async () => {
        (await adapter.stop())._unsafeUnwrap();
      };
    });
  }
  await sleep(2000);
  globalThis.gc?.();
  notifications = 0;
  events = 0;
  issues = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const seen = { notifications, events, issues };
  const rss = process.memoryUsage().rss;
  await inBatches(stops.length, 50, (i) => stops[i]());
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    mode,
    notificationsPerSecond: Math.round(seen.notifications / elapsed),
    eventsPerSecond: Math.round(seen.events / elapsed),
    issues: seen.issues,
    cpuPercentOfOneCore: Math.round((cpuSeconds / elapsed) * 1000) / 10,
    cpuMicrosPerNotification: seen.notifications === 0 ? null : Math.round((cpuSeconds / seen.notifications) * 1e7) / 10,
    rssMB: Math.round(rss / 1e6),
  };
}

const child = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), { env: { ...process.env, MACHINES: String(machines) }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
// The server goes with the bench, also when a mode fails.
process.on("exit", () => child.kill());
const { port, items } = await new Promise((resolve) => child.once("message", resolve));
const endpoint = `opc.tcp://127.0.0.1:${port}`;
const runs = [];
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["bare", "sessions", "adapter"] : ["adapter", "sessions", "bare"];
    const round = {};
    for (const mode of order) {
      round[mode] = await measure(mode, endpoint);
      console.log(JSON.stringify(round[mode]));
    }
    runs.push(round);
  }
} finally {
  child.send("stop");
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const perNotification = (round, mode) => round[mode].cpuMicrosPerNotification;
const ratios = runs.map((round) => perNotification(round, "adapter") / perNotification(round, "bare"));
const sessionRatios = runs.map((round) => perNotification(round, "sessions") / perNotification(round, "bare"));
const result = {
  bench: "adapter-opcua",
  mode: quick ? "quick" : "full",
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`,
  load: { before: loadBefore, after: loadavg()[0] },
  items,
  machines,
  seconds,
  rounds,
  /** adapter ÷ bare client CPU per notification (issue 16's OPC UA row, target ≤ 3). */
  adapterVsBareSubscription: median(ratios),
  adapterVsBareSubscriptionRange: [Math.min(...ratios), Math.max(...ratios)],
  /** a session per machine without the adapter ÷ bare: the part of the ratio that is the connection layout. */
  sessionsVsBareSubscription: median(sessionRatios),
  runs,
};
console.log(JSON.stringify({ adapterVsBareSubscription: result.adapterVsBareSubscription, range: result.adapterVsBareSubscriptionRange, sessionsVsBareSubscription: result.sessionsVsBareSubscription, load: result.load }));
if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
