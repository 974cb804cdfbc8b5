// A step (or compensation) that kills its worker on every attempt must not be retried forever:
// attempts that began and recorded no outcome count against the retry policy's maxAttempts. A
// compensation that fails for good is reported as an alignment-style finding besides the dead letter.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BreachedFinding } from "@millwright/alignment";
import { createRetryPolicy, permanent } from "@millwright/idempotency";
import { err, ok } from "neverthrow";
import { afterAll, describe, expect, it, vi } from "vitest";
import { defineWorkflow } from "../src/define.js";
import { COMPENSATION_FAILED_RULE, createWorkflowRuntime, toBreachedFinding, workflowFindingOf, type WorkflowFinding } from "../src/runtime.js";
import { createSqliteWorkflowStore, openSqliteDatabase } from "../src/sqlite.js";
import type { WorkflowDeadLetter, WorkflowStore } from "../src/store.js";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import type { HistoryEntry } from "../src/types.js";
import { captureLogger, CountingPeer, manualClock } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "millwright-crash-loop-"));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: readonly [string, () => WorkflowStore][] = [
  ["memory", () => createMemoryWorkflowStore()],
  [
    "sqlite",
    () => {
      const opened = openSqliteDatabase(join(dir, `crash-${files++}.db`));
      if (opened.isErr()) throw new Error(opened.error.message);
      return createSqliteWorkflowStore(opened.value);
    },
  ],
];

const three = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 });
const LEASE_MS = 600_000; // the lease keeper (every third of it, in real time) never fires during the test

/**
 * A workflow whose step `hang` never finishes (as if it killed its worker: no outcome is ever
 * recorded), after `before` ordinary steps, each with a compensation applied at the peer.
 */
function crashingWorkflow(peer: CountingPeer, before: number) {
  return defineWorkflow({
    name: "crash-loop",
    version: 1,
    run: async (wf) => {
      for (let i = 1; i <= before; i++) {
        await wf.step(`ok-${i}`, (ctx) => ok(peer.apply(`ok-${i}`, ctx.idempotencyKey).effect), {
          retry: three,
          compensate: (ctx) => ok(peer.apply(`undo-ok-${i}`, ctx.idempotencyKey).effect),
        });
      }
      await wf.step(
        "hang",
        (ctx) => {
          peer.apply("hang", ctx.idempotencyKey);
          return new Promise(() => {}); // the worker "dies" here: nothing is ever recorded
        },
        { retry: three },
      );
      return null;
    },
  });
}

describe.each(stores)("crash-loop guard (%s store)", (_name, makeStore) => {
  it.each([
    { before: 1, runs: 3, why: "a later step: its first attempt is recorded with the earlier step's completion" },
    { before: 0, runs: 4, why: "the first step of a clean run: its first attempt goes unrecorded, so one run more" },
  ])("a step that kills its worker every time fails for good after maxAttempts and compensates ($why)", async ({ before, runs }) => {
    const peer = new CountingPeer();
    const workflow = crashingWorkflow(peer, before);
    const store = makeStore();
    const clock = manualClock();
    const worker = (n: number) => createWorkflowRuntime({ store, workflows: [workflow], clock, logger: captureLogger(), workerId: `worker-${n}`, leaseMs: LEASE_MS });
    const ref = (await worker(0).start(workflow, "order-1", null))._unsafeUnwrap();
    const hangs = () => peer.calls.filter((c) => c.action === "hang").length;

    // Each worker claims the instance and "dies" in the step; its lease then expires.
    for (let n = 1; n <= runs; n++) {
      void worker(n).runDue();
      await vi.waitFor(() => expect(hangs()).toBe(n), { timeout: 5000 });
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(LEASE_MS + 1);
    }
    // The next worker finds every allowed attempt used: the step fails for good, without running.
    const last = worker(runs + 1);
    expect((await last.runDue())._unsafeUnwrap()).toBe(1);
    expect(hangs()).toBe(runs);

    const snapshot = (await last.get(ref.id))._unsafeUnwrap();
    expect(snapshot.instance.state).toBe("compensated");
    const failed = snapshot.history.filter((e): e is Extract<HistoryEntry, { type: "step-failed" }> => e.type === "step-failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ step: "hang", attempt: 3, willRetry: false, error: { code: "crash_loop" } });
    expect(failed[0]!.error.message).toContain("started 3 times without an outcome");
    expect(snapshot.history.filter((e) => e.type === "step-started" && e.step === "hang").map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    // The completed steps were compensated exactly once each, at the peer.
    for (let i = 1; i <= before; i++) {
      expect(peer.effects.filter((e) => e.action === `ok-${i}`)).toHaveLength(1);
      expect(peer.effects.filter((e) => e.action === `undo-ok-${i}`)).toHaveLength(1);
    }
    // Nothing is due any more: no further attempt.
    expect((await worker(runs + 2).runDue())._unsafeUnwrap()).toBe(0);
    expect(hangs()).toBe(runs);
  });
});

describe("a compensation that fails for good", () => {
  it("goes to the dead letters and is reported as an alignment-style finding (hook and from the dead letter)", async () => {
    const peer = new CountingPeer();
    const workflow = defineWorkflow({
      name: "stage-order",
      version: 1,
      run: async (wf) => {
        await wf.step("dispatch", (ctx) => ok(peer.apply("dispatch", ctx.idempotencyKey).effect), {
          retry: three,
          compensate: (ctx) => {
            peer.apply("withdraw", ctx.idempotencyKey);
            return err(permanent("the MES refuses to withdraw a started order"));
          },
        });
        await wf.step("stage", () => err(permanent("staging refused: no stock")), { retry: three });
        return null;
      },
    });
    const clock = manualClock();
    const letters: WorkflowDeadLetter[] = [];
    const findings: WorkflowFinding[] = [];
    const runtime = createWorkflowRuntime({
      store: createMemoryWorkflowStore(),
      workflows: [workflow],
      clock,
      logger: captureLogger(),
      workerId: "w",
      onDeadLetter: (letter) => void letters.push(letter),
      onFinding: (finding) => void findings.push(finding),
    });
    const ref = (await runtime.start(workflow, "WO-4711", null))._unsafeUnwrap();
    await runtime.runDue();

    expect((await runtime.get(ref.id))._unsafeUnwrap().instance.state).toBe("failed");
    expect(peer.effects.map((e) => e.action)).toEqual(["dispatch", "withdraw"]);
    expect(letters).toHaveLength(1);
    expect(findings).toHaveLength(1);
    const at = new Date(clock.now()).toISOString();
    expect(findings[0]).toEqual({
      kind: "breached",
      rule: COMPENSATION_FAILED_RULE,
      key: "stage-order/WO-4711",
      dueAt: at,
      latenessMs: 0,
      evidence: [],
      at,
      revision: String(clock.now()),
      reasons: ["compensation_failed"],
      detail: expect.stringContaining("the compensation of step dispatch failed for good (permanent: the MES refuses to withdraw a started order)"),
      workflow: "stage-order",
      version: 1,
      instanceId: ref.id,
      instanceKey: "WO-4711",
      step: "dispatch",
      error: { code: "permanent", message: "the MES refuses to withdraw a started order" },
    });
    // The same finding can be made later from the stored dead letter (the CLI, a report).
    const stored = (await runtime.deadLetters())._unsafeUnwrap();
    expect(stored.map(workflowFindingOf)).toEqual(findings);
    // And shown by the alignment report as a breached finding.
    const breached: BreachedFinding = toBreachedFinding(findings[0]!);
    expect(breached).toMatchObject({ kind: "breached", rule: COMPENSATION_FAILED_RULE, key: "stage-order/WO-4711", reasons: ["missing"], dueAt: at });
    expect(breached.detail).toBe(findings[0]!.detail);
  });
});
