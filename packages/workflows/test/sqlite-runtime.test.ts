// The runtime on the embedded SQLite store: a crash mid-step and a restart on the same file, timers
// across a restart, and two runtimes (two connections) sharing one file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRetryPolicy } from "@millwright/idempotency";
import { openSqliteDatabase, type OpenedSqliteDatabase } from "@millwright/idempotency/sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/define.js";
import { createWorkflowRuntime } from "../src/runtime.js";
import { createSqliteWorkflowStore } from "../src/sqlite.js";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import { captureLogger, CountingPeer, manualClock } from "./fixtures.js";

let dir: string;
const open: OpenedSqliteDatabase[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "millwright-wf-runtime-"));
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(): OpenedSqliteDatabase {
  const db = openSqliteDatabase(join(dir, "workflows.db"))._unsafeUnwrap();
  open.push(db);
  return db;
}

async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("runtime on SQLite", () => {
  it("resumes after a worker dies mid-step: a new runtime on the same file does not rerun recorded steps, and the dead worker's late write is fenced", async () => {
    const peer = new CountingPeer();
    let releaseHung!: () => void;
    const hung = new Promise<void>((resolve) => (releaseHung = resolve));
    const wf = defineWorkflow({
      name: "crash",
      version: 1,
      run: async (wf) => {
        await wf.step("a", async (ctx) => void peer.apply("a", ctx.idempotencyKey));
        await wf.step("b", async (ctx) => {
          // The first attempt hangs: its worker "dies" before recording anything.
          if (ctx.attempt === 1) await hung;
          peer.apply("b", ctx.idempotencyKey);
          return ctx.attempt;
        });
        await wf.step("c", async (ctx) => void peer.apply("c", ctx.idempotencyKey));
        return "done";
      },
    });
    const clock = manualClock();
    const logger = captureLogger();
    const dead = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger, workerId: "dead", leaseMs: 30_000 });
    const ref = (await dead.start(wf, "k", null))._unsafeUnwrap();
    const deadRun = dead.runDue();
    await eventually(() => peer.calls.length === 1, "step a");
    await eventually(async () => (await dead.get(ref.id))._unsafeUnwrap().history.some((e) => e.type === "step-started" && e.step === "b"), "step b started");

    // The lease expires; another process opens the same file.
    clock.advance(30_001);
    const alive = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger, workerId: "alive" });
    expect((await alive.runDue())._unsafeUnwrap()).toBe(1);
    const done = (await alive.get(ref.id))._unsafeUnwrap();
    expect(done.instance).toMatchObject({ state: "completed", output: "done" });
    expect(peer.calls.map((c) => c.action)).toEqual(["a", "b", "c"]);
    expect(done.history.filter((e) => e.type === "step-started").map((e) => `${(e as { step: string }).step}#${(e as { attempt: number }).attempt}`)).toEqual(["a#1", "b#1", "b#2", "c#1"]);
    expect(done.history.find((e) => e.type === "step-completed" && e.step === "b")).toMatchObject({ result: 2 });

    // The dead worker wakes up: its effect reaches the peer with the same key (applied once), its write is refused.
    releaseHung();
    await deadRun;
    expect(peer.effects.map((e) => e.action)).toEqual(["a", "b", "c"]);
    expect(peer.calls.filter((c) => c.action === "b").map((c) => c.key)).toEqual([peer.calls[1]!.key, peer.calls[1]!.key]);
    expect((await alive.get(ref.id))._unsafeUnwrap().history).toEqual(done.history);
    expect(logger.lines.some((l) => l.level === "warn" && l.message === "instance run stopped" && String(l.fields?.["why"]).startsWith("lease lost"))).toBe(true);
  });

  it("keeps timers across a restart and fires them when due", async () => {
    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "timer",
      version: 1,
      run: async (wf) => {
        await wf.sleep("15m");
        await wf.step("after", async (ctx) => void peer.apply("after", ctx.idempotencyKey));
        return null;
      },
    });
    const clock = manualClock();
    const first = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger: captureLogger() });
    const ref = (await first.start(wf, "k", null))._unsafeUnwrap();
    await first.runDue();
    open.shift()?.close();
    clock.advance(15 * 60_000);
    const second = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger: captureLogger() });
    expect((await second.runDue())._unsafeUnwrap()).toBe(1);
    expect((await second.runDue())._unsafeUnwrap()).toBe(0);
    expect((await second.get(ref.id))._unsafeUnwrap().instance.state).toBe("completed");
    expect(peer.calls).toHaveLength(1);
  });

  it("shares one file between two runtimes: every step runs once, never by two workers at once", async () => {
    const peer = new CountingPeer();
    const running = new Set<string>();
    let overlaps = 0;
    const step = (name: string) => async (ctx: { idempotencyKey: string; instanceId: string }) => {
      if (running.has(ctx.instanceId)) overlaps += 1;
      running.add(ctx.instanceId);
      await new Promise((resolve) => setTimeout(resolve, 1));
      peer.apply(name, ctx.idempotencyKey);
      running.delete(ctx.instanceId);
    };
    const wf = defineWorkflow({
      name: "shared",
      version: 1,
      run: async (wf) => {
        await wf.step("one", step("one"), { retry: createRetryPolicy({ maxAttempts: 1 }) });
        await wf.step("two", step("two"));
        await wf.step("three", step("three"));
        return null;
      },
    });
    const clock = manualClock();
    const a = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger: captureLogger(), workerId: "a", concurrency: 4 });
    const b = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], clock, logger: captureLogger(), workerId: "b", concurrency: 4 });
    for (let i = 0; i < 40; i++) await a.start(wf, `k${i}`, null);
    const [ranA, ranB] = await Promise.all([a.runDue(), b.runDue()]);
    expect(ranA._unsafeUnwrap() + ranB._unsafeUnwrap()).toBe(40);
    expect(ranA._unsafeUnwrap()).toBeGreaterThan(0);
    expect(ranB._unsafeUnwrap()).toBeGreaterThan(0);
    expect(overlaps).toBe(0);
    expect(peer.calls).toHaveLength(120);
    expect(peer.effects).toHaveLength(120);
    expect((await a.list({ state: "completed", limit: 1000 }))._unsafeUnwrap()).toHaveLength(40);
  });

  it("runs instances in the background with the worker loop and the system clock", async () => {
    const wf = defineWorkflow({
      name: "background",
      version: 1,
      run: async (wf) => {
        await wf.sleep(30);
        return wf.step("finish", async () => "finished");
      },
    });
    const runtime = createWorkflowRuntime({ store: createSqliteWorkflowStore(connect()), workflows: [wf], logger: captureLogger(), pollMs: 10 });
    runtime.startWorker();
    try {
      const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
      await eventually(async () => (await runtime.get(ref.id))._unsafeUnwrap().instance.state === "completed", "the background run");
      expect((await runtime.get(ref.id))._unsafeUnwrap().instance.output).toBe("finished");
    } finally {
      await runtime.stop();
    }
  });

  it("hands a start to the running worker that made it, already leased: it runs at once, without a claim or a poll, and a second worker cannot take it while the lease holds", async () => {
    for (const kind of ["sqlite", "memory"] as const) {
      const peer = new CountingPeer();
      const wf = defineWorkflow({
        name: "handed",
        version: 1,
        run: async (wf, input: { n: number }) => {
          await wf.step("one", (ctx) => (peer.apply("one", ctx.idempotencyKey), { n: input.n }));
          await wf.step("two", (ctx) => (peer.apply("two", ctx.idempotencyKey), { n: input.n + 1 }));
          return "done";
        },
      });
      const base = kind === "sqlite" ? createSqliteWorkflowStore(connect()) : createMemoryWorkflowStore();
      const claims: string[] = [];
      const store = { ...base, claimDue: (request: Parameters<typeof base.claimDue>[0]) => base.claimDue(request).then((c) => (claims.push(...c.map((x) => x.instance.key)), c)) };
      // A poll every minute: without the hand-over the instance would wait for the next one.
      const runtime = createWorkflowRuntime({ store, workflows: [wf], logger: captureLogger(), workerId: "w1", pollMs: 60_000 });
      runtime.startWorker();
      await eventually(() => true, "the first poll");
      const ref = (await runtime.start(wf, "H-1", { n: 1 }))._unsafeUnwrap();
      expect(ref.created).toBe(true);
      // While it is leased to w1, another worker finds nothing due to claim.
      const other = await base.claimDue({ workerId: "w2", now: Date.now(), leaseMs: 1000, limit: 10 });
      expect(other.filter((c) => c.instance.key === "H-1")).toEqual([]);
      await eventually(async () => (await base.load(ref.id))?.instance.state === "completed", `${kind}: the handed instance to complete`, 3000);
      await runtime.stop();
      expect(claims).not.toContain("H-1");
      const done = (await base.load(ref.id))!;
      expect(done.instance).toMatchObject({ leaseOwner: null, output: "done" });
      expect(done.history.map((h) => [h.seq, h.type])).toEqual([
        [1, "started"],
        [2, "step-started"],
        [3, "step-completed"],
        [4, "step-started"],
        [5, "step-completed"],
        [6, "completed"],
      ]);
      expect(peer.calls.map((c) => c.action)).toEqual(["one", "two"]);
      // A start of an existing key is not handed over (nothing was created).
      expect((await runtime.start(wf, "H-1", { n: 1 }))._unsafeUnwrap().created).toBe(false);
    }
  });
});
