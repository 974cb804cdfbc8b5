// A broker restart: a private Mosquitto on a free port, started and killed by the test (the shared
// one at 1883 is a system service). Host and edge nodes reconnect; nothing is counted twice or lost.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createMemoryCounterStore } from "@millwright/adapter-kit";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { startSparkplugEdgeNode, startSparkplugHost, parseSparkplugHostConfig, type HostIssue } from "../src/index.js";
import { countedGood, expectUniqueIds, lineConfig, RawEdgeNode, uniqueGroup, waitFor } from "./helpers.js";
import type { AdapterEvent } from "@millwright/adapter-kit";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function startBroker(port: number): Promise<ChildProcess> {
  const broker = spawn("/usr/sbin/mosquitto", ["-p", String(port)], { stdio: "ignore" });
  const until = Date.now() + 5000;
  for (;;) {
    try {
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
      await probe.endAsync();
      return broker;
    } catch (cause) {
      if (Date.now() > until) throw new Error(`private mosquitto did not start on port ${port}: ${String(cause)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stopBroker(broker: ChildProcess): Promise<void> {
  if (broker.exitCode !== null) return;
  const exited = new Promise((r) => broker.once("exit", r));
  broker.kill("SIGKILL");
  await exited;
}

describe("broker restart", () => {
  it("host and edge nodes come back: the host re-announces, the nodes rebirth with a new bdSeq, counted = made", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    let broker = await startBroker(port);
    cleanup.push(() => stopBroker(broker));
    const groupId = uniqueGroup();
    const config = parseSparkplugHostConfig({ ...lineConfig(groupId, "e1"), brokerUrl: url })._unsafeUnwrap();
    const events: AdapterEvent[] = [];
    const issues: HostIssue[] = [];
    const host = (await startSparkplugHost({ config, store: createMemoryCounterStore(), handler: (e) => void events.push(e), onIssue: (i) => void issues.push(i) }))._unsafeUnwrap();
    cleanup.push(() => host.stop());
    const edge = (await startSparkplugEdgeNode({ brokerUrl: url, groupId, edgeNodeId: "mw", reconnectDelayMs: 100 }))._unsafeUnwrap();
    cleanup.push(() => edge.stop());
    let node = await RawEdgeNode.connect(groupId, "e1", 0, url);
    await node.birth(0, { state: 6, good: 0, defective: 0, order: "1000123" });
    await node.good(1, 4);
    await waitFor(() => countedGood(events) === 4, "4 parts");

    await stopBroker(broker);
    let made = 4 + 6; // made while the broker is down
    broker = await startBroker(port);
    node = await RawEdgeNode.connect(groupId, "e1", 1, url);
    cleanup.push(() => node.close());
    await waitFor(() => edge.bdSeq === 1 && edge.births === 2, "our edge node's new session", 10_000);
    // The host reconnected and announced itself again (its retained STATE on the new broker).
    const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    cleanup.push(() => probe.endAsync());
    let announced: { online?: boolean } = {};
    probe.on("message", (_t, p) => void (announced = JSON.parse(p.toString()) as { online?: boolean }));
    await probe.subscribeAsync(`spBv1.0/STATE/${config.hostId}`);
    await waitFor(() => announced.online === true, "the host's STATE online on the new broker", 10_000);
    await node.birth(1, { state: 6, good: made, defective: 0, order: "1000123" });
    await node.good(1, (made += 2));
    await waitFor(() => countedGood(events) === made, `${made} parts`, 10_000);
    await host.idle();
    expect(countedGood(events)).toBe(made);
    expectUniqueIds(events);
  });
});
