import { err, errAsync, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { effects, workOrderEvents } from "../test/fixtures.js";
import { createAckWindow, createSettlementBatch, createWorkPool, delay, settleDelivery } from "./core.js";

describe("createWorkPool", () => {
  it("runs at most `concurrency` tasks, keeps each key's order, signals backpressure and drains", async () => {
    const signals: string[] = [];
    const pool = createWorkPool({ concurrency: 3, highWater: 5, onPause: () => signals.push("pause"), onResume: () => signals.push("resume") });
    let running = 0;
    let peak = 0;
    const order: Record<string, number[]> = {};
    for (let i = 0; i < 30; i++) {
      const key = `k${i % 4}`;
      pool.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await delay(((i * 7) % 5) + 1);
        (order[key] ??= []).push(i);
        running--;
      }, key);
    }
    expect(pool.size()).toBe(30);
    await pool.drain();
    expect(pool.size()).toBe(0);
    expect(peak).toBeLessThanOrEqual(3);
    for (const [key, seen] of Object.entries(order)) expect(seen, key).toEqual([...seen].sort((a, b) => a - b));
    expect(signals).toEqual(["pause", "resume"]);
    expect(() => createWorkPool({ concurrency: 0 })).toThrow(RangeError);
  });

  it("goes on after a task rejects, and a key's next task waits for the one before it, not for a free slot only", async () => {
    const pool = createWorkPool({ concurrency: 4 });
    const seen: string[] = [];
    pool.run(async () => {
      await delay(5);
      seen.push("a1");
      throw new Error("boom");
    }, "a");
    pool.run(async () => void seen.push("a2"), "a");
    pool.run(async () => void seen.push("b1"), "b");
    expect(pool.size()).toBe(3);
    await pool.drain();
    expect(seen).toEqual(["b1", "a1", "a2"]);
    expect(pool.size()).toBe(0);
  });
});

describe("createSettlementBatch", () => {
  it("applies what the microtasks of one batch queued together, in order, after they ran; flush applies at once", async () => {
    const flushed: number[][] = [];
    const batch = createSettlementBatch<number>((items) => flushed.push([...items]));
    await Promise.all([1, 2, 3].map(async (i) => {
      await Promise.resolve();
      await Promise.resolve();
      batch.add(i);
    }));
    expect(flushed).toEqual([]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(flushed).toEqual([[1, 2, 3]]);
    batch.add(4);
    batch.flush();
    expect(flushed).toEqual([[1, 2, 3], [4]]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(flushed).toHaveLength(2);
  });
});

describe("createAckWindow", () => {
  const settleTick = () => new Promise<void>((resolve) => setImmediate(resolve));

  it("acks the settled run at the front once with multiple, and what is settled behind a pending delivery on its own", async () => {
    const sent: string[] = [];
    const acks = createAckWindow<number>((tag, multiple) => sent.push(`${tag}${multiple ? "+" : ""}`));
    const d = [1, 2, 3, 4, 5, 6].map((tag) => acks.delivered(tag));
    acks.ack(d[1]!);
    acks.ack(d[2]!);
    await settleTick();
    // 1 is still in the inbox: 2 and 3 are acknowledged one by one, never cumulatively over 1.
    expect(sent).toEqual(["2", "3"]);
    acks.ack(d[0]!);
    acks.settledOtherwise(d[3]!);
    acks.ack(d[4]!);
    await settleTick();
    // 1..5 are settled: one cumulative ack on 5, the last not yet sent (2 and 3 were, 4 was nacked).
    expect(sent).toEqual(["2", "3", "5+"]);
    acks.ack(d[5]!);
    await settleTick();
    expect(sent).toEqual(["2", "3", "5+", "6+"]);
  });

  it("never sends a cumulative ack on a delivery acknowledged already", async () => {
    const sent: string[] = [];
    const acks = createAckWindow<number>((tag, multiple) => sent.push(`${tag}${multiple ? "+" : ""}`));
    const d = [1, 2, 3].map((tag) => acks.delivered(tag));
    acks.ack(d[1]!);
    acks.ack(d[2]!);
    await settleTick();
    acks.settledOtherwise(d[0]!);
    await settleTick();
    expect(sent).toEqual(["2", "3"]);
    acks.ack(acks.delivered(4));
    acks.flush();
    expect(sent).toEqual(["2", "3", "4+"]);
  });
});

describe("settleDelivery", () => {
  it("acks stored outcomes, keeps unreadable messages as dead letters, and retries when nothing was stored", async () => {
    const fx = effects();
    const [event] = workOrderEvents(1);
    expect(await settleDelivery(fx.inbox, fx.handler, ok(event!), "")).toMatchObject({ action: "ack", id: event!.id, outcome: { outcome: "processed" } });
    expect(await settleDelivery(fx.inbox, fx.handler, ok(event!), "")).toMatchObject({ action: "ack", outcome: { outcome: "duplicate", reason: "already_processed" } });
    const unreadable = await settleDelivery(fx.inbox, fx.handler, err({ code: "invalid_message", path: "/payload", rule: "JSON", message: "not JSON" } as never), "garbage");
    expect(unreadable).toMatchObject({ action: "ack", id: undefined, rejected: { code: "invalid_message" } });
    expect((await fx.inbox.deadLetters())._unsafeUnwrap()[0]?.payload).toBe("garbage");
    const down = { ...fx.inbox, process: () => errAsync({ code: "store_failed", operation: "claim", message: "connection refused" }) } as unknown as typeof fx.inbox;
    expect(await settleDelivery(down, fx.handler, ok(event!), "")).toMatchObject({ action: "retry", error: { code: "store_failed", message: "connection refused" } });
    expect(fx.applied).toEqual([event!.id]);
  });
});
