import { err, errAsync, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { effects, workOrderEvents } from "../test/fixtures.js";
import { createWorkPool, delay, settleDelivery } from "./core.js";

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
