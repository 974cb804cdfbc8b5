// What the metrics cost. (1) Inbox throughput on the memory store (the store that costs least, so
// the metrics' share is the largest it can be), 20% duplicate deliveries, with no OpenTelemetry
// SDK registered (the no-op path) against an SDK with a reader; rounds interleaved, medians. (2)
// The per-message cost of the transports' no-op instruments: the three calls a subscriber makes per
// message (received, now, settled), against an empty loop.
// Run: node --conditions=@millwright/source --import tsx bench/metrics.bench.ts [--events N] [--rounds N]
import { performance } from "node:perf_hooks";
import { createInbox, createMemoryStore, type InboxEvent, type MemoryTransaction } from "@millwright/idempotency";
import { metrics } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { DeliveryOutcome } from "../src/core.js";
import { createTransportInstruments } from "../src/telemetry.js";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1] ?? fallback);
};
const EVENTS = arg("events", 50_000);
const ROUNDS = arg("rounds", 7);

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Delivery d of a stream where every fifth delivery repeats a recent event (20% duplicates). */
function delivery(d: number): InboxEvent {
  let n = d - Math.floor(d / 5);
  if (d % 5 === 4) n = Math.max(0, n - 1 - ((d * 7919) % 997));
  return { id: `evt-${n}`, source: "urn:millwright:bench", type: "dev.millwright.workorder.released.v1", data: { orderId: `order-${n}` } };
}

async function inboxRound(mode: "no SDK" | "SDK"): Promise<number> {
  const provider = mode === "SDK" ? new MeterProvider({ readers: [new PullReader()] }) : undefined;
  const inbox = createInbox<MemoryTransaction>(createMemoryStore(), provider === undefined ? {} : { meter: provider.getMeter("bench") });
  let effects = 0;
  const handler = (_e: InboxEvent, { tx }: { tx: MemoryTransaction }): void => tx.defer(() => void effects++);
  const start = performance.now();
  for (let d = 0; d < EVENTS; d++) (await inbox.process(delivery(d), handler))._unsafeUnwrap();
  const seconds = (performance.now() - start) / 1000;
  await provider?.shutdown();
  if (effects !== EVENTS - Math.floor(EVENTS / 5)) throw new Error(`expected ${EVENTS - Math.floor(EVENTS / 5)} effects, got ${effects}`);
  return EVENTS / seconds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  if (Object.getPrototypeOf(metrics.getMeterProvider()).constructor.name !== "NoopMeterProvider") throw new Error("an SDK is registered globally: the no-op path cannot be measured");
  const rates: Record<"no SDK" | "SDK", number[]> = { "no SDK": [], SDK: [] };
  await inboxRound("no SDK");
  await inboxRound("SDK");
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 === 0 ? (["no SDK", "SDK"] as const) : (["SDK", "no SDK"] as const)) rates[mode].push(await inboxRound(mode));
  }
  const none = median(rates["no SDK"]);
  const sdk = median(rates.SDK);
  console.log(`inbox, memory store, ${EVENTS} deliveries (20% duplicates), median of ${ROUNDS} rounds:`);
  console.log(`  no SDK registered (no-op path): ${Math.round(none)} deliveries/s (${(1e6 / none).toFixed(1)} µs each)`);
  console.log(`  SDK with a reader:              ${Math.round(sdk)} deliveries/s (${(1e6 / sdk).toFixed(1)} µs each), throughput ${((sdk / none - 1) * 100).toFixed(1)}% against no SDK`);

  // The transports' no-op path, per message.
  const instruments = createTransportInstruments({ system: "nats" });
  const outcome: DeliveryOutcome = { action: "ack", id: "evt-1", outcome: { outcome: "processed", attempts: 1 } };
  const CALLS = 20_000_000;
  let sink = 0;
  const timeLoop = (body: (i: number) => void): number => {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) body(i);
    return ((performance.now() - start) * 1e6) / CALLS;
  };
  const perCall: number[] = [];
  const empty: number[] = [];
  for (let r = 0; r < 5; r++) {
    empty.push(timeLoop((i) => void (sink += i & 1)));
    perCall.push(
      timeLoop((i) => {
        sink += i & 1;
        instruments.received("millwright.workorder.completed.1710");
        const startedAt = instruments.now();
        instruments.settled(outcome, startedAt, "millwright.workorder.completed.1710");
      }),
    );
  }
  console.log(`transports, no SDK: received + now + settled per message: ${(median(perCall) - median(empty)).toFixed(2)} ns over an empty loop (${median(perCall).toFixed(2)} vs ${median(empty).toFixed(2)} ns; sink ${sink % 2})`);
}

await main();
