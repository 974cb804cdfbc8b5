// Bench of issue 16's OPC UA row: client CPU of the real adapter path (`startOpcuaAdapter`, one
// adapter per machine, all on one endpoint, so they share one client, session and subscription;
// memory store, a handler that counts) against a bare node-opcua subscription of the same items, on a local node-opcua
// server (its own process, so the client's CPU figures are the client's alone). Each machine has a
// good and a defective Int32 counter changing every 100 ms (sampling and publishing 100 ms).
// Modes, each in a process of its own, measured at the same time:
//   bare      one client, one subscription of every item, counting notifications (a hand-written client);
//   sessions  one client + subscription per machine, counting notifications: the connection layout of
//             adapters that do not share (`shareConnection: false`), without the adapter; only with
//             `--modes bare,sessions,adapter` (diagnostic, not part of the ratio);
//   adapter   one `startOpcuaAdapter` per machine (`--unshared`: each with `shareConnection: false`).
// Each mode's process sets its clients up, warms up 2 s, then measures its own CPU (process.cpuUsage)
// over `rounds` windows of `seconds`, the modes' windows side by side: whatever else loads the
// machine loads both sides of a window alike (measured one after the other, the bare side's CPU per
// notification varied 3× between windows at load 14 on 2 cores). The ratio is adapter ÷ bare CPU
// per notification, so a server that falls behind under load does not flatter either side; the
// reported ratio is the median of the windows' ratios, `pooledAdapterVsBareSubscription` the total
// CPU per notification over all windows. The quick mode is 25 machines, 5 windows of 3 s (after one
// unrecorded window).
// Usage: node --conditions=@millwright/source --expose-gc --import tsx bench/run.mjs [--quick] [--out file.json] [--machines N] [--seconds S] [--rounds R] [--modes bare,sessions,adapter] [--unshared]
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

// Loaded in the modes' processes only (see `runMode`).
let AttributeIds, ClientMonitoredItemGroup, ClientSubscription, OPCUAClient, TimestampsToReturn;
let createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter;

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const quick = argv.includes("--quick");
const out = option("--out", undefined);
const machines = Number(option("--machines", quick ? 25 : 500));
const seconds = Number(option("--seconds", quick ? 3 : 10));
const rounds = Number(option("--rounds", quick ? 5 : 2));
const modes = option("--modes", "bare,adapter").split(",");
// --unshared: each adapter with a connection of its own (`shareConnection: false`), the layout before sharing.
const unshared = argv.includes("--unshared");
if (!modes.includes("bare") || !modes.includes("adapter") || modes.some((m) => !["bare", "sessions", "adapter"].includes(m))) {
  console.error(`bench: --modes must list bare and adapter, and may add sessions (got ${modes.join(",")})`);
  process.exit(2);
}
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

/**
 * A mode's process: sets the mode up, warms up 2 s, reports ready; then measures its CPU over a
 * window of `seconds` on each "measure" message, and tears down on "stop".
 */
async function runMode(mode, endpoint) {
  ({ AttributeIds, ClientMonitoredItemGroup, ClientSubscription, OPCUAClient, TimestampsToReturn } = await import("node-opcua"));
  if (mode === "adapter") ({ createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter } = await import("../src/index.ts"));
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
          ...(unshared ? { shareConnection: false } : {}),
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
  // The first forced collection after loading node-opcua leaves a large heap to sweep on V8's background
  // threads (seconds of CPU, counted by process.cpuUsage): it happens here, not in the first window.
  globalThis.gc?.();
  await sleep(1000);
  process.on("message", async (message) => {
    if (message === "stop") {
      await inBatches(stops.length, 50, (i) => stops[i]());
      process.exit(0);
    }
    // No forced collection per window: its concurrent sweeping of the whole heap would land in the
    // window on a loaded machine (one side read 20 % of a core for a window, against 5 %).
    notifications = 0;
    events = 0;
    issues = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await sleep(seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const seen = { notifications, events, issues };
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.send({
      mode,
      notificationsPerSecond: Math.round(seen.notifications / elapsed),
      eventsPerSecond: Math.round(seen.events / elapsed),
      issues: seen.issues,
      cpuPercentOfOneCore: Math.round((cpuSeconds / elapsed) * 1000) / 10,
      cpuMicrosPerNotification: seen.notifications === 0 ? null : Math.round((cpuSeconds / seen.notifications) * 1e7) / 10,
      cpuSeconds,
      notifications: seen.notifications,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    });
  });
  process.send("ready");
}

const modeArg = option("--mode-process", undefined);
if (modeArg !== undefined) {
  await runMode(modeArg, option("--endpoint", ""));
} else {
  await runBench();
}

async function runBench() {
  const server = fork(fileURLToPath(new URL("./server.mjs", import.meta.url)), { env: { ...process.env, MACHINES: String(machines) }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const processes = [];
  // The server and the modes' processes go with the bench, also when a mode fails.
  process.on("exit", () => {
    for (const p of [server, ...processes]) p.kill();
  });
  const { port, items } = await new Promise((resolve) => server.once("message", resolve));
  const endpoint = `opc.tcp://127.0.0.1:${port}`;
  const next = (p) =>
    new Promise((resolve, reject) => {
      const exited = (code) => reject(new Error(`bench: a mode's process exited (${code}) before answering`));
      p.once("exit", exited);
      p.once("message", (message) => {
        p.off("exit", exited);
        resolve(message);
      });
    });
  const runs = [];
  try {
    // One process per mode, set up at the same time (each reports ready once its clients are up and warm), then measured side by side.
    for (const mode of modes) {
      const args = ["--mode-process", mode, "--endpoint", endpoint, "--machines", String(machines), "--seconds", String(seconds), ...(unshared ? ["--unshared"] : [])];
      processes.push(fork(fileURLToPath(import.meta.url), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    }
    await Promise.all(processes.map((p) => next(p)));
    // Window 0 is not recorded: in a process just set up (and more so with both set up at once) the first
    // window after warm-up has read up to 15× the next ones, on either side (V8's background compiling
    // and sweeping of the freshly loaded node-opcua, as far as we could tell).
    for (let r = -1; r < rounds; r++) {
      const answers = processes.map((p) => next(p));
      for (const p of processes) p.send("measure");
      if (r < 0) {
        await Promise.all(answers);
        continue;
      }
      const round = {};
      for (const result of await Promise.all(answers)) {
        round[result.mode] = result;
        console.log(JSON.stringify(result));
      }
      runs.push(round);
    }
    await Promise.all(processes.map((p) => new Promise((resolve) => {
      p.once("exit", resolve);
      p.send("stop");
    })));
  } finally {
    server.send("stop");
  }
  report(runs, items);
}

function report(runs, items) {
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const perNotification = (round, mode) => round[mode].cpuMicrosPerNotification;
  const ratios = runs.map((round) => perNotification(round, "adapter") / perNotification(round, "bare"));
  const sessionRatios = modes.includes("sessions") ? runs.map((round) => perNotification(round, "sessions") / perNotification(round, "bare")) : [];
  /** Total CPU per notification of a mode over every window. */
  const pooled = (mode) => runs.reduce((sum, round) => sum + round[mode].cpuSeconds, 0) / runs.reduce((sum, round) => sum + round[mode].notifications, 0);
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
    modes,
    shareConnection: !unshared,
    /** adapter ÷ bare client CPU per notification, median over the windows (issue 16's OPC UA row, target ≤ 3). */
    adapterVsBareSubscription: median(ratios),
    adapterVsBareSubscriptionRange: [Math.min(...ratios), Math.max(...ratios)],
    /** adapter ÷ bare, total CPU per notification over all windows. */
    pooledAdapterVsBareSubscription: pooled("adapter") / pooled("bare"),
    /** a session per machine without the adapter ÷ bare: the cost of not sharing the connection (with --modes …,sessions,…). */
    sessionsVsBareSubscription: sessionRatios.length === 0 ? null : median(sessionRatios),
    runs,
  };
  console.log(JSON.stringify({ adapterVsBareSubscription: result.adapterVsBareSubscription, range: result.adapterVsBareSubscriptionRange, pooled: result.pooledAdapterVsBareSubscription, sessionsVsBareSubscription: result.sessionsVsBareSubscription, load: result.load }));
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
