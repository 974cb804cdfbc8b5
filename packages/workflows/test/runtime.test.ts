import { createRetryPolicy, permanent, retryable } from "@millwright/idempotency";
import { err, ok } from "neverthrow";
import { describe, expect, it } from "vitest";
import { defineWorkflow, onBreach, onEvent, type WorkflowDefinition } from "../src/define.js";
import { stepIdempotencyKey } from "../src/ids.js";
import { createWorkflowRuntime, type WorkflowRuntimeOptions } from "../src/runtime.js";
import type { WorkflowStore } from "../src/store.js";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import type { HistoryEntry } from "../src/types.js";
import { captureLogger, CountingPeer, manualClock } from "./fixtures.js";

const fast = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
const once = createRetryPolicy({ maxAttempts: 1 });

function setup(workflows: readonly WorkflowDefinition<never, unknown>[] | readonly WorkflowDefinition<any, any>[], extra: Partial<WorkflowRuntimeOptions> = {}) {
  const clock = manualClock();
  const logger = captureLogger();
  const store: WorkflowStore = extra.store ?? createMemoryWorkflowStore();
  const runtime = createWorkflowRuntime({ store, workflows: workflows as never, clock, logger, workerId: "test-worker", random: () => 0.5, ...extra });
  return { clock, logger, store, runtime };
}

const types = (history: readonly HistoryEntry[]) => history.map((e) => (e.type.startsWith("step") || e.type.startsWith("compensation") ? `${e.type}:${(e as { step: string }).step}` : e.type));

/** A three-step workflow over one peer: each step applies its effect with its idempotency key; each has a compensation. */
function threeSteps(peer: CountingPeer, behaviour: Partial<Record<string, (attempt: number) => "ok" | "retryable" | "permanent" | "throw">> = {}) {
  const step = (name: string) => async (ctx: { idempotencyKey: string; attempt: number }) => {
    const how = behaviour[name]?.(ctx.attempt) ?? "ok";
    if (how === "retryable") return err(retryable(`${name} peer answered 503`));
    if (how === "permanent") return err(permanent(`${name} refused`));
    if (how === "throw") throw new Error(`${name} bug`);
    peer.apply(name, ctx.idempotencyKey);
    return ok({ done: name });
  };
  const compensate = (name: string) => async (ctx: { idempotencyKey: string }) => {
    peer.apply(`undo-${name}`, ctx.idempotencyKey);
    return ok(null);
  };
  return defineWorkflow({
    name: "three",
    version: 1,
    run: async (wf) => {
      const a = await wf.step("a", step("a"), { retry: fast, compensate: compensate("a") });
      const b = await wf.step("b", step("b"), { retry: fast, compensate: compensate("b") });
      const c = await wf.step("c", step("c"), { retry: fast, compensate: compensate("c") });
      return { a, b, c };
    },
  });
}

describe("runtime: steps, retries, compensation", () => {
  it("runs the steps in order, records each result before the next starts, and completes with the output", async () => {
    const peer = new CountingPeer();
    const wf = threeSteps(peer);
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "order-1", { order: 1 }))._unsafeUnwrap();
    expect(ref.created).toBe(true);
    expect((await runtime.start(wf, "order-1", { order: 1 }))._unsafeUnwrap()).toMatchObject({ id: ref.id, created: false });
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(1);
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(snapshot.instance).toMatchObject({ state: "completed", output: { a: { done: "a" }, b: { done: "b" }, c: { done: "c" } }, wakeAt: null, leaseOwner: null });
    expect(types(snapshot.history)).toEqual(["started", "step-started:a", "step-completed:a", "step-started:b", "step-completed:b", "step-started:c", "step-completed:c", "completed"]);
    expect(peer.effects).toEqual(["a", "b", "c"].map((s) => ({ action: s, key: stepIdempotencyKey("three", "order-1", s) })));
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(0);
  });

  it("retries a retryable failure with the same idempotency key, then succeeds", async () => {
    const peer = new CountingPeer();
    const keys: string[] = [];
    const wf = defineWorkflow({
      name: "flaky",
      version: 1,
      run: async (wf) =>
        wf.step(
          "post",
          async (ctx) => {
            keys.push(ctx.idempotencyKey);
            if (ctx.attempt < 3) return err(retryable("503"));
            peer.apply("post", ctx.idempotencyKey);
            return ok(ctx.attempt);
          },
          { retry: fast },
        ),
    });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(snapshot.instance).toMatchObject({ state: "completed", output: 3 });
    expect(new Set(keys)).toEqual(new Set([stepIdempotencyKey("flaky", "k", "post")]));
    expect(keys).toHaveLength(3);
    expect(snapshot.history.filter((e) => e.type === "step-failed").map((e) => (e as { willRetry: boolean }).willRetry)).toEqual([true, true]);
    expect(peer.count("post")).toBe(1);
  });

  it("waits a long retry delay as a due time, not in the worker", async () => {
    let calls = 0;
    const wf = defineWorkflow({
      name: "slow-retry",
      version: 1,
      run: async (wf) => wf.step("post", async () => (++calls === 1 ? err(retryable("503")) : ok("posted")), { retry: createRetryPolicy({ maxAttempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 }) }),
    });
    const { runtime, clock } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const waiting = (await runtime.get(ref.id))._unsafeUnwrap().instance;
    expect(waiting).toMatchObject({ state: "waiting", wakeAt: clock.now() + 30_000 });
    expect(calls).toBe(1);
    clock.advance(29_999);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(0);
    clock.advance(1);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(1);
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "posted" });
    expect(calls).toBe(2);
  });

  it("compensates the completed steps in reverse order when a step fails for good", async () => {
    const peer = new CountingPeer();
    const wf = threeSteps(peer, { c: () => "permanent" });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(snapshot.instance.state).toBe("compensated");
    expect(peer.actions()).toEqual(["a", "b", "undo-b", "undo-a"]);
    expect(peer.effects.find((e) => e.action === "undo-b")?.key).toBe(stepIdempotencyKey("three", "k", "b", "compensation"));
    expect(types(snapshot.history).slice(-8)).toEqual([
      "step-started:c",
      "step-failed:c",
      "compensating",
      "compensation-started:b",
      "compensation-completed:b",
      "compensation-started:a",
      "compensation-completed:a",
      "compensated",
    ]);
    expect(snapshot.history.find((e) => e.type === "compensating")).toMatchObject({ reason: { kind: "step-failed", step: "c", error: { code: "permanent", message: "c refused" } } });
  });

  it("records a thrown exception as a permanent failure with its stack, tells the logger, and compensates", async () => {
    const peer = new CountingPeer();
    const wf = threeSteps(peer, { b: () => "throw" });
    const { runtime, logger } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    const failed = snapshot.history.find((e) => e.type === "step-failed");
    expect(failed).toMatchObject({ step: "b", attempt: 1, willRetry: false, error: { code: "exception", message: "Error: b bug" } });
    expect((failed as { error: { stack?: string } }).error.stack).toContain("runtime.test.ts");
    expect(logger.lines.filter((l) => l.level === "error").map((l) => l.message)).toContain("step b threw: recorded as a permanent failure (a bug, not bad input)");
    expect(peer.actions()).toEqual(["a", "undo-a"]);
    expect(snapshot.instance.state).toBe("compensated");
  });

  it("refuses a step result that is not JSON, naming the step", async () => {
    const wf = defineWorkflow({ name: "bad-result", version: 1, run: async (wf) => wf.step("read", async () => ({ at: new Date(0) }), { retry: fast }) });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(snapshot.history.find((e) => e.type === "step-failed")).toMatchObject({
      attempt: 1,
      willRetry: false,
      error: { code: "not_json", message: "step read returned a result that is not JSON: result.at: a Date is not JSON (use an ISO string)" },
    });
    expect(snapshot.instance.state).toBe("compensated");
  });

  it("times a step out through its AbortSignal and retries it", async () => {
    const seen: boolean[] = [];
    const wf = defineWorkflow({
      name: "timeout",
      version: 1,
      run: async (wf) =>
        wf.step(
          "slow",
          async (ctx) => {
            if (ctx.attempt === 1) {
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
              seen.push(ctx.signal.aborted);
              return "too late";
            }
            return "fast";
          },
          { timeout: "30ms", retry: fast },
        ),
    });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(seen).toEqual([true]);
    expect(snapshot.history.find((e) => e.type === "step-failed")).toMatchObject({ error: { code: "timeout", message: "step slow timed out after 30 ms" }, willRetry: true });
    expect(snapshot.instance).toMatchObject({ state: "completed", output: "fast" });
  });

  it("runs parallel branches and compensates the branch that completed when the other fails for good", async () => {
    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "parallel",
      version: 1,
      run: async (wf) => {
        const [erp, wms] = await wf.parallel([
          wf.step("block-in-erp", async (ctx) => (peer.apply("erp", ctx.idempotencyKey), "erp"), { compensate: async (ctx) => void peer.apply("unblock-erp", ctx.idempotencyKey) }),
          wf.step(
            "block-in-wms",
            async () => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              return err(permanent("WMS refused"));
            },
            { retry: once, compensate: async (ctx) => void peer.apply("unblock-wms", ctx.idempotencyKey) },
          ),
        ]);
        return { erp, wms };
      },
    });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    expect(peer.actions()).toEqual(["erp", "unblock-erp"]);
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance.state).toBe("compensated");

    const both = new CountingPeer();
    const ok2 = defineWorkflow({
      name: "parallel-ok",
      version: 1,
      run: async (wf) =>
        wf.parallel([
          wf.step("one", async (ctx) => (both.apply("one", ctx.idempotencyKey), 1)),
          async () => {
            const two = await wf.step("two", async (ctx) => (both.apply("two", ctx.idempotencyKey), 2));
            return two * 10;
          },
        ]),
    });
    const second = setup([ok2]);
    const okRef = (await second.runtime.start(ok2, "k", null))._unsafeUnwrap();
    await second.runtime.runDue();
    expect((await second.runtime.get(okRef.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: [1, 20] });
    expect(both.actions().sort()).toEqual(["one", "two"]);
  });
});

describe("runtime: waits, signals, deadlines", () => {
  it("sleeps durably: a due time, then the next step once", async () => {
    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "sleeper",
      version: 1,
      run: async (wf) => {
        await wf.step("before", async (ctx) => void peer.apply("before", ctx.idempotencyKey));
        await wf.sleep("10m");
        await wf.step("after", async (ctx) => void peer.apply("after", ctx.idempotencyKey));
        return "done";
      },
    });
    const { runtime, clock } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    const t0 = clock.now();
    await runtime.runDue();
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance).toMatchObject({ state: "waiting", wakeAt: t0 + 600_000 });
    clock.advance(599_999);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(0);
    clock.advance(1);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(1);
    expect(peer.actions()).toEqual(["before", "after"]);
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance.state).toBe("completed");
  });

  it("waits for a matching event, sees one that arrived before the wait, and times out without one", async () => {
    const wf = defineWorkflow({
      name: "confirm",
      version: 1,
      run: async (wf, input: { batch: string }) => {
        await wf.sleep("1m");
        const got = await wf.waitFor("dev.millwright.batch.statuschanged.v1", (e) => e.subject === input.batch, { timeout: "15m" });
        return got.kind === "event" ? got.event.id : "timeout";
      },
    });
    const { runtime, clock } = setup([wf]);
    const early = (await runtime.start(wf, "early", { batch: "B-1" }))._unsafeUnwrap();
    const never = (await runtime.start(wf, "never", { batch: "B-2" }))._unsafeUnwrap();
    await runtime.runDue();
    // Arrives during the sleep, before the wait starts; one for another batch is ignored.
    const event = (id: string, subject: string) => ({ specversion: "1.0", id, source: "urn:test", type: "dev.millwright.batch.statuschanged.v1", subject, data: {} }) as never;
    expect((await runtime.deliver(event("e-other", "B-9")))._unsafeUnwrap()).toEqual({ started: [], woken: 0 });
    await runtime.deliver(event("e-1", "B-1"));
    clock.advance(60_000);
    await runtime.runDue();
    expect((await runtime.get(early.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "e-1" });
    const waiting = (await runtime.get(never.id))._unsafeUnwrap().instance;
    expect(waiting).toMatchObject({ state: "waiting", waitingFor: ["dev.millwright.batch.statuschanged.v1"], wakeAt: clock.now() + 900_000 });
    clock.advance(900_000);
    await runtime.runDue();
    expect((await runtime.get(never.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "timeout" });
  });

  it("wakes a waiting instance when its event arrives", async () => {
    const wf = defineWorkflow({
      name: "wake",
      version: 1,
      run: async (wf) => {
        const got = await wf.waitFor("dev.millwright.batch.created.v1", () => true);
        return got.kind;
      },
    });
    const { runtime } = setup([wf]);
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance).toMatchObject({ state: "waiting", wakeAt: null });
    expect((await runtime.deliver({ specversion: "1.0", id: "e", source: "urn:test", type: "dev.millwright.batch.created.v1", data: {} } as never))._unsafeUnwrap().woken).toBe(1);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(1);
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "event" });
  });

  it("continues on approval, compensates on rejection, and times out a wait for a signal", async () => {
    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "approval",
      version: 1,
      run: async (wf) => {
        await wf.step("dispatch", async (ctx) => void peer.apply(`dispatch-${wf.key}`, ctx.idempotencyKey), { compensate: async (ctx) => void peer.apply(`recall-${wf.key}`, ctx.idempotencyKey) });
        const decision = await wf.waitForSignal("planner-approval", { timeout: "2h" });
        if (decision.kind === "timeout") return "timeout";
        await wf.step("stage", async (ctx) => void peer.apply(`stage-${wf.key}`, ctx.idempotencyKey));
        return decision.payload.by ?? "someone";
      },
    });
    const { runtime, clock } = setup([wf]);
    const yes = (await runtime.start(wf, "yes", null))._unsafeUnwrap();
    const no = (await runtime.start(wf, "no", null))._unsafeUnwrap();
    const late = (await runtime.start(wf, "late", null))._unsafeUnwrap();
    // A signal delivered before the wait starts is kept for it.
    (await runtime.signal(yes.id, "planner-approval", { decision: "approve", by: "ana" }))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(yes.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "ana" });
    (await runtime.signal(no.id, "planner-approval", { decision: "reject", reason: "components short", by: "ben" }))._unsafeUnwrap();
    await runtime.runDue();
    const rejected = (await runtime.get(no.id))._unsafeUnwrap();
    expect(rejected.instance.state).toBe("compensated");
    expect(rejected.history.find((e) => e.type === "compensating")).toMatchObject({ reason: { kind: "rejected", signal: "planner-approval", payload: { decision: "reject", reason: "components short", by: "ben" } } });
    expect(rejected.signals).toEqual([]);
    clock.advance(2 * 3_600_000);
    await runtime.runDue();
    expect((await runtime.get(late.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "timeout" });
    expect(peer.actions().sort()).toEqual(["dispatch-late", "dispatch-no", "dispatch-yes", "recall-no", "stage-yes"]);
    // Refusals are values naming the field, the value and the rule.
    expect((await runtime.signal(yes.id, "planner-approval", { decision: "approve" }))._unsafeUnwrapErr()).toMatchObject({ code: "instance_finished", state: "completed" });
    expect((await runtime.signal(yes.id, "Planner Approval", { decision: "approve" }))._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"name is "Planner Approval": a signal name is 1 to 100 of a-z, 0-9 and -"`);
    expect((await runtime.signal(yes.id, "x", { decision: "maybe" } as never))._unsafeUnwrapErr().message).toMatchInlineSnapshot(
      `"payload is {"decision":"maybe"}: a decision is { decision: "approve" | "reject", reason?: string, by?: string }"`,
    );
    expect((await runtime.signal("00000000-0000-5000-8000-000000000000", "x", { decision: "approve" }))._unsafeUnwrapErr().code).toBe("instance_not_found");
  });

  it("cancels a waiting instance: compensations in reverse order, then cancelled", async () => {
    const peer = new CountingPeer();
    const wf = threeSteps(peer);
    const waiting = defineWorkflow({
      name: "cancellable",
      version: 1,
      run: async (wf) => {
        await wf.step("a", async (ctx) => void peer.apply("a", ctx.idempotencyKey), { compensate: async (ctx) => void peer.apply("undo-a", ctx.idempotencyKey) });
        await wf.step("b", async (ctx) => void peer.apply("b", ctx.idempotencyKey), { compensate: async (ctx) => void peer.apply("undo-b", ctx.idempotencyKey) });
        await wf.sleep("1h");
        return "done";
      },
    });
    const { runtime } = setup([wf, waiting]);
    const ref = (await runtime.start(waiting, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    (await runtime.cancel(ref.id, "hold released by QA"))._unsafeUnwrap();
    await runtime.runDue();
    const snapshot = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(snapshot.instance.state).toBe("cancelled");
    expect(snapshot.history.at(-1)).toMatchObject({ type: "cancelled", reason: "hold released by QA" });
    expect(peer.actions()).toEqual(["a", "b", "undo-b", "undo-a"]);
    expect((await runtime.cancel(ref.id, "again"))._unsafeUnwrapErr().code).toBe("instance_finished");
  });

  it("acts on the deadline: escalate (once, and the instance goes on), compensate, or both", async () => {
    const peer = new CountingPeer();
    const make = (action: "escalate" | "compensate" | "escalate-and-compensate") =>
      defineWorkflow({
        name: `deadline-${action}`,
        version: 1,
        deadline: { after: "4h", action },
        run: async (wf) => {
          await wf.step("block", async (ctx) => void peer.apply(`block-${action}`, ctx.idempotencyKey), { compensate: async (ctx) => void peer.apply(`unblock-${action}`, ctx.idempotencyKey) });
          const got = await wf.waitForSignal("confirmed", { timeout: "6h", onReject: "return" });
          return got.kind;
        },
      });
    const defs = [make("escalate"), make("compensate"), make("escalate-and-compensate")];
    const escalations: string[] = [];
    const { runtime, clock } = setup(defs, { onEscalate: (e) => void escalations.push(e.workflow) });
    const refs = [];
    for (const def of defs) refs.push((await runtime.start(def, "k", null))._unsafeUnwrap());
    await runtime.runDue();
    for (const ref of refs) expect((await runtime.get(ref.id))._unsafeUnwrap().instance.wakeAt).toBe(clock.now() + 4 * 3_600_000);
    clock.advance(4 * 3_600_000);
    await runtime.runDue();
    await runtime.runDue();
    const [esc, comp, both] = await Promise.all(refs.map(async (r) => (await runtime.get(r.id))._unsafeUnwrap()));
    expect(escalations.sort()).toEqual(["deadline-escalate", "deadline-escalate-and-compensate"]);
    expect(esc!.instance).toMatchObject({ state: "waiting", wakeAt: clock.now() + 2 * 3_600_000 });
    expect(types(esc!.history).slice(-2)).toEqual(["deadline-passed", "escalated"]);
    expect(comp!.instance.state).toBe("compensated");
    expect(types(comp!.history)).not.toContain("escalated");
    expect(both!.instance.state).toBe("compensated");
    expect(types(both!.history)).toEqual(expect.arrayContaining(["deadline-passed", "escalated", "compensating", "compensated"]));
    expect(peer.actions()).toEqual(expect.arrayContaining(["unblock-compensate", "unblock-escalate-and-compensate"]));
    expect(peer.count("unblock-escalate")).toBe(0);
    // The escalated instance still ends normally, and escalates only once.
    (await runtime.signal(refs[0]!.id, "confirmed", { decision: "approve" }))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(refs[0]!.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: "signal" });
    expect(escalations).toHaveLength(2);
  });
});

describe("runtime: versions, events, dead letters", () => {
  it("finishes an instance on the version it started with, and starts new ones on the newest", async () => {
    const run = (version: number) =>
      defineWorkflow({
        name: "versioned",
        version,
        start: [onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.subject ?? e.id, input: () => null })],
        run: async (wf) => {
          await wf.sleep("1m");
          return `v${version}`;
        },
      });
    const v1 = run(1);
    const v2 = run(2);
    const first = setup([v1]);
    const old = (await first.runtime.start(v1, "old", null))._unsafeUnwrap();
    await first.runtime.runDue();
    // A new deployment knows both versions.
    const runtime = createWorkflowRuntime({ store: first.store, workflows: [v1, v2], clock: first.clock, logger: first.logger });
    const delivered = (await runtime.deliver({ specversion: "1.0", id: "h1", source: "urn:test", type: "dev.millwright.qualityhold.placed.v1", subject: "new", data: {} } as never))._unsafeUnwrap();
    expect(delivered.started).toEqual([expect.objectContaining({ key: "new", version: 2, created: true })]);
    await runtime.runDue();
    first.clock.advance(60_000);
    await runtime.runDue();
    expect((await runtime.get(old.id))._unsafeUnwrap().instance).toMatchObject({ version: 1, state: "completed", output: "v1" });
    expect((await runtime.get(delivered.started[0]!.id))._unsafeUnwrap().instance).toMatchObject({ version: 2, state: "completed", output: "v2" });
    expect(() => createWorkflowRuntime({ store: first.store, workflows: [v1, run(1)] })).toThrow("createWorkflowRuntime: workflow versioned version 1 is given twice");
    expect((await first.runtime.start(v2, "x", null))._unsafeUnwrapErr().code).toBe("unknown_workflow");
  });

  it("starts a remediation from a breached finding, nothing from a resolved one, and reports a trigger that throws", async () => {
    const wf = defineWorkflow({
      name: "remediate",
      version: 1,
      start: [onBreach("hold-not-reflected-in-wms", { input: (f) => ({ hold: f.key, reasons: [...f.reasons] }) })],
      run: async (wf, input: { hold: string }) => wf.step("unblock", async () => `unblocked ${input.hold}`),
    });
    const broken = defineWorkflow({
      name: "broken-trigger",
      version: 1,
      start: [onEvent("dev.millwright.batch.created.v1", { key: () => { throw new Error("no key here"); } })],
      run: async () => null,
    });
    const { runtime } = setup([wf, broken]);
    const breach = { kind: "breached", rule: "hold-not-reflected-in-wms", key: "QH-7", reasons: ["missing"] } as never;
    const started = (await runtime.deliverFinding(breach))._unsafeUnwrap().started;
    expect(started).toEqual([expect.objectContaining({ workflow: "remediate", key: "QH-7", created: true })]);
    expect((await runtime.deliverFinding({ kind: "resolved", rule: "hold-not-reflected-in-wms", key: "QH-7" } as never))._unsafeUnwrap().started).toEqual([]);
    expect((await runtime.deliverFinding({ ...(breach as object), rule: "other-rule" } as never))._unsafeUnwrap().started).toEqual([]);
    await runtime.runDue();
    expect((await runtime.get(started[0]!.id))._unsafeUnwrap().instance).toMatchObject({ input: { hold: "QH-7", reasons: ["missing"] }, state: "completed", output: "unblocked QH-7" });
    const failed = await runtime.deliver({ specversion: "1.0", id: "b1", source: "urn:test", type: "dev.millwright.batch.created.v1", data: {} } as never);
    expect(failed._unsafeUnwrapErr()).toMatchObject({ code: "invalid_input", message: "a start trigger of workflow broken-trigger threw: Error: no key here" });
  });

  it("sends an instance whose compensation fails for good to the dead letters with its history, and retries it", async () => {
    const peer = new CountingPeer();
    let undoWorks = false;
    const wf = defineWorkflow({
      name: "dead",
      version: 1,
      run: async (wf) => {
        await wf.step("block", async (ctx) => void peer.apply("block", ctx.idempotencyKey), {
          compensate: async (ctx) => (undoWorks ? void peer.apply("unblock", ctx.idempotencyKey) : err(retryable("WMS down"))),
          compensateRetry: fast,
        });
        await wf.step("post", async () => err(permanent("ERP refused")), { retry: once });
        return null;
      },
    });
    const letters: string[] = [];
    const { runtime } = setup([wf], { onDeadLetter: (l) => void letters.push(l.step) });
    const ref = (await runtime.start(wf, "k", null))._unsafeUnwrap();
    await runtime.runDue();
    const failed = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(failed.instance).toMatchObject({ state: "failed", failure: { code: "retryable", message: "WMS down" }, wakeAt: null });
    expect(types(failed.history).filter((t) => t.startsWith("compensation"))).toEqual([
      "compensation-started:block",
      "compensation-failed:block",
      "compensation-started:block",
      "compensation-failed:block",
      "compensation-started:block",
      "compensation-failed:block",
    ]);
    expect(letters).toEqual(["block"]);
    const [letter] = (await runtime.deadLetters())._unsafeUnwrap();
    expect(letter).toMatchObject({ instanceId: ref.id, step: "block", error: { message: "WMS down" } });
    expect(letter!.history).toEqual(failed.history);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(0);
    undoWorks = true;
    (await runtime.retry(ref.id))._unsafeUnwrap();
    await runtime.runDue();
    const retried = (await runtime.get(ref.id))._unsafeUnwrap();
    expect(retried.instance.state).toBe("compensated");
    expect(peer.actions()).toEqual(["block", "unblock"]);
    expect((await runtime.deadLetters())._unsafeUnwrap()).toEqual([]);
    expect((await runtime.retry(ref.id))._unsafeUnwrapErr().message).toBe(`workflow instance ${ref.id} is compensated: only a failed instance can be retried`);
  });

  it("fires what is due once when the clock jumps forward", async () => {
    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "timers",
      version: 1,
      run: async (wf, input: { minutes: number }) => {
        await wf.sleep(input.minutes * 60_000);
        await wf.step("fire", async (ctx) => void peer.apply(`fire-${wf.key}`, ctx.idempotencyKey));
        await wf.sleep("1d");
        return "done";
      },
    });
    const { runtime, clock } = setup([wf]);
    for (const minutes of [10, 20, 60, 300]) await runtime.start(wf, `t${minutes}`, { minutes });
    await runtime.runDue();
    clock.advance(2 * 3_600_000);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(3);
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(0);
    expect(peer.calls.map((c) => c.action).sort()).toEqual(["fire-t10", "fire-t20", "fire-t60"]);
  });
});
