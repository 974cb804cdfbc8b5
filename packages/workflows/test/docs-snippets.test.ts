// Every ```ts block of docs/workflows.md, type-checked (tsc -p packages/workflows) and run here.
// The first test checks that each block of the doc appears in this file word for word, so the doc
// cannot drift from code that compiles. Between the blocks: the small in-memory peers the doc's
// code talks to (in the doc: "your adapters"), and the tests that run the blocks.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { permanent as permanentError, retryable as retryableError, type HandlerError } from "@millwright/idempotency";
import { err as errResult, ok as okResult, type Result } from "neverthrow";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "./pg-services.js";

/** A peer system that applies each effect once per idempotency key and counts every call. */
class Peer {
  readonly calls: string[] = [];
  readonly effects = new Map<string, string>();
  /** Outcomes to give to the next calls, before applying anything. */
  readonly failures: ("retryable" | "permanent")[] = [];
  apply(action: string, key: string): Result<string, HandlerError> {
    this.calls.push(action);
    const failure = this.failures.shift();
    if (failure === "retryable") return errResult(retryableError(`${action}: the peer timed out`));
    if (failure === "permanent") return errResult(permanentError(`${action}: refused for good`));
    const id = `${action}:${key}`;
    if (!this.effects.has(id)) this.effects.set(id, `${action.toUpperCase()}-${this.effects.size + 1}`);
    return okResult(this.effects.get(id) as string);
  }
  count(action: string): number {
    return [...this.effects.keys()].filter((k) => k.startsWith(`${action}:`)).length;
  }
}
const erpPeer = new Peer();
const wmsPeer = new Peer();
const mesPeer = new Peer();
const erpClient = { block: (holdId: string, key: string) => erpPeer.apply(`block ${holdId}`, key).map((document) => ({ document })) };
const wmsClient = {
  block: (holdId: string, key: string) => wmsPeer.apply(`block ${holdId}`, key).map(() => ({ requestId: key })),
  stage: (orderId: string, key: string) => wmsPeer.apply(`stage ${orderId}`, key).map(() => ({ requestId: key })),
};
const mesClient = {
  dispatch: (orderId: string, key: string) => mesPeer.apply(`dispatch ${orderId}`, key).map((dispatchId) => ({ dispatchId })),
  withdraw: (dispatchId: string, key: string) => mesPeer.apply(`withdraw ${dispatchId}`, key),
};
const testClock = { t: Date.UTC(2026, 11, 7, 6, 0, 0), now: () => testClock.t };

// ---- the doc's blocks, in the doc's order ----

import { createRetryPolicy } from "@millwright/idempotency";
import { createMemoryWorkflowStore, createWorkflowRuntime, defineWorkflow, instanceIdOf, onEvent, type WorkflowRuntime } from "@millwright/workflows";

const stepRetry = createRetryPolicy({ maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 });

export const holdBatch = defineWorkflow({
  name: "hold-batch",
  version: 1,
  start: [onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.data.holdId, input: (e) => ({ holdId: e.data.holdId }) })],
  deadline: { after: "4h", action: "escalate" },
  run: async (wf, input) => {
    // Both blocks at once; each carries its step's idempotency key to the peer.
    const [erp, wms] = await wf.parallel([
      () => wf.step("block-in-erp", (ctx) => erpClient.block(input.holdId, ctx.idempotencyKey), { retry: stepRetry, timeout: "30s" }),
      () => wf.step("block-in-wms", (ctx) => wmsClient.block(input.holdId, ctx.idempotencyKey), { retry: stepRetry, timeout: "30s" }),
    ]);
    // A durable wait: the WMS confirms with a movement that names our request.
    const confirmation = await wf.waitFor(
      "dev.millwright.materialmovement.posted.v1",
      (e) => e.data.sourceRefs.some((ref) => ref.key === wms.requestId),
      { timeout: "15m", name: "wms-confirmation" },
    );
    return { erpDocument: erp.document, confirmed: confirmation.kind === "event" };
  },
});

export const releaseOrder = defineWorkflow<{ readonly orderId: string; readonly componentsShort: boolean }, { readonly outcome: string }>({
  name: "release-order",
  version: 1,
  run: async (wf, input) => {
    await wf.step("dispatch-to-mes", (ctx) => mesClient.dispatch(input.orderId, ctx.idempotencyKey), {
      retry: stepRetry,
      // Undoes the dispatch when a later step fails for good, a planner rejects, or the instance is cancelled.
      compensate: (ctx, dispatched) => mesClient.withdraw(dispatched.dispatchId, ctx.idempotencyKey),
    });
    if (input.componentsShort) {
      // A reject compensates (the dispatch is withdrawn); a timeout is the body's to handle.
      const decision = await wf.waitForSignal("planner-approval", { timeout: "2h" });
      if (decision.kind === "timeout") return { outcome: "no decision: left dispatched" };
    }
    await wf.step("stage-in-wms", (ctx) => wmsClient.stage(input.orderId, ctx.idempotencyKey), { retry: stepRetry });
    return { outcome: "released" };
  },
});

export async function decide(runtime: WorkflowRuntime, orderId: string): Promise<void> {
  const id = instanceIdOf("release-order", orderId); // one instance per (workflow, key)
  const sent = await runtime.signal(id, "planner-approval", { decision: "approve", reason: "substitute agreed", by: "j.doe" });
  if (sent.isErr()) console.error(sent.error.message); // instance_not_found, instance_finished, …
}

import { createSqliteWorkflowStore, openSqliteDatabase } from "@millwright/workflows/sqlite";

export function embeddedRuntime(file: string): WorkflowRuntime {
  const opened = openSqliteDatabase(file); // better-sqlite3 when installed, else node:sqlite
  if (opened.isErr()) throw new Error(opened.error.message);
  const runtime = createWorkflowRuntime({ store: createSqliteWorkflowStore(opened.value), workflows: [holdBatch, releaseOrder] });
  runtime.startWorker(); // polls for due instances: timers, signals, events, retries
  return runtime;
}

import pg from "pg";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "@millwright/workflows/postgres";

export async function postgresWorker(url: string): Promise<{ runtime: WorkflowRuntime; pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => {}); // a dropped idle connection is replaced on the next connect
  await migrateWorkflowPostgres(pool); // a deployment step; safe to run from several processes
  const runtime = createWorkflowRuntime({ store: createPostgresWorkflowStore(pool), workflows: [holdBatch, releaseOrder], leaseMs: 30_000 });
  runtime.startWorker();
  return { runtime, pool };
}

export const releaseOrderV2 = defineWorkflow<{ readonly orderId: string; readonly componentsShort: boolean }, { readonly outcome: string }>({
  name: "release-order",
  version: 2, // new instances start on v2; instances of v1 in flight finish on v1
  run: async (wf, input) => {
    await wf.step("check-routing", (ctx) => erpClient.block(input.orderId, ctx.idempotencyKey));
    return { outcome: "checked" };
  },
});
export const bothVersions = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [releaseOrder, releaseOrderV2] });

// ---- the tests ----

/**
 * The code of a block as this file runs it: without its imports and `declare` statements (each
 * doc block declares what it assumes, so that tooling/docs-snippets compiles it alone; here those
 * are real), comment-only and blank lines.
 */
function codeOf(text: string): string {
  const out: string[] = [];
  let open = 0;
  for (const line of text.split("\n")) {
    const t = line.trim();
    const depth = (line.match(/[{(]/g) ?? []).length - (line.match(/[})]/g) ?? []).length;
    if (open > 0) {
      open += depth;
      continue;
    }
    if (t.startsWith("import ") || t.startsWith("declare ")) {
      open = Math.max(0, depth);
      continue;
    }
    if (t === "" || t.startsWith("//")) continue;
    out.push(line.trimEnd());
  }
  return out.join("\n");
}

const SILENT = { info: () => undefined, warn: () => undefined, error: () => undefined };
const docText = readFileSync(join(import.meta.dirname, "..", "..", "..", "docs", "workflows.md"), "utf8");
const thisFile = readFileSync(import.meta.filename, "utf8");

describe("docs/workflows.md snippets", () => {
  it("every ts block of the doc is in this file, word for word (its imports and declarations aside)", () => {
    const blocks = [...docText.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => codeOf(m[1] as string));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const here = codeOf(thisFile);
    for (const block of blocks) expect(here, `a block of docs/workflows.md is not in docs-snippets.test.ts:\n${block}`).toContain(block);
  });

  it("hold-batch: both blocks once at their peers (a retried attempt carries the same key), then the wait times out", async () => {
    const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [holdBatch], clock: testClock, logger: SILENT, inlineRetryMs: 5_000, sleep: async () => undefined });
    erpPeer.failures.push("retryable");
    const ref = (await runtime.start(holdBatch, "QH-1", { holdId: "QH-1" }))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance.state).toBe("waiting");
    expect([erpPeer.calls.filter((c) => c === "block QH-1").length, erpPeer.count("block QH-1"), wmsPeer.count("block QH-1")]).toEqual([2, 1, 1]);
    testClock.t += 16 * 60_000;
    await runtime.runDue();
    expect((await runtime.get(ref.id))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: { erpDocument: "BLOCK QH-1-1", confirmed: false } });
  });

  it("release-order: approve stages once; reject withdraws the dispatch once; versions side by side", async () => {
    const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [releaseOrder], clock: testClock, logger: SILENT });
    await runtime.start(releaseOrder, "WO-1", { orderId: "WO-1", componentsShort: true });
    await runtime.start(releaseOrder, "WO-2", { orderId: "WO-2", componentsShort: true });
    await runtime.runDue();
    await decide(runtime, "WO-1");
    (await runtime.signal(instanceIdOf("release-order", "WO-2"), "planner-approval", { decision: "reject", reason: "no substitute" }))._unsafeUnwrap();
    await runtime.runDue();
    expect((await runtime.get(instanceIdOf("release-order", "WO-1")))._unsafeUnwrap().instance).toMatchObject({ state: "completed", output: { outcome: "released" } });
    expect((await runtime.get(instanceIdOf("release-order", "WO-2")))._unsafeUnwrap().instance.state).toBe("compensated");
    expect([mesPeer.count("dispatch WO-1"), mesPeer.count("dispatch WO-2"), wmsPeer.count("stage WO-1"), wmsPeer.count("stage WO-2")]).toEqual([1, 1, 1, 0]);
    expect([...mesPeer.effects.keys()].filter((k) => k.startsWith("withdraw"))).toHaveLength(1);

    const v2 = (await bothVersions.start(releaseOrderV2, "WO-3", { orderId: "WO-3", componentsShort: false }))._unsafeUnwrap();
    expect(v2.version).toBe(2);
  });

  it("the embedded runtime on a SQLite file, and a worker on PostgreSQL, run an instance to its end", async () => {
    const dir = mkdtempSync(join(tmpdir(), "millwright-docs-"));
    const db = await createTestDatabase("docs");
    const embedded = embeddedRuntime(join(dir, "workflows.db"));
    const { runtime, pool } = await postgresWorker(db.url);
    try {
      for (const r of [embedded, runtime]) {
        const ref = (await r.start(releaseOrder, `WO-${r === embedded ? "sqlite" : "pg"}`, { orderId: "WO-x", componentsShort: false }))._unsafeUnwrap();
        const end = Date.now() + 20_000;
        while ((await r.get(ref.id))._unsafeUnwrap().instance.state !== "completed") {
          if (Date.now() > end) throw new Error(`the worker did not complete ${ref.id}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    } finally {
      await embedded.stop();
      await runtime.stop();
      await pool.end();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
