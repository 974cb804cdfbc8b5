// The quality-hold workflow against the test SAP system and the test WMS over HTTP: every effect
// is counted at the peer (material documents stored by SAP, requests applied by the WMS).
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createRetryPolicy } from "@millwright/idempotency";
import type { QualityHold } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import type { BreachedFinding } from "@millwright/alignment";
import type { TestWmsFaults } from "@millwright/adapter-wms/test-server";
import { createQualityHoldWorkflow, postingReference, type Escalation, type QualityHoldOutcome, type QualityHoldWorkflowOptions } from "../../src/builtin/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteDatabase } from "@millwright/idempotency/sqlite";
import { createMemoryWorkflowStore, createWorkflowRuntime, stepIdempotencyKey, type WorkflowRuntime, type WorkflowStore } from "../../src/index.js";
import { createSqliteWorkflowStore } from "../../src/sqlite.js";
import { postedDocuments, startPeers, WMS_SYSTEM, type Peers } from "./peers.js";

const placed: QualityHold = {
  holdId: "40000000112",
  status: "placed",
  scope: {
    kind: "batch",
    batch: { material: { id: "FG126" }, batchId: "B260302A" },
    location: { site: { id: "1710" }, storageLocation: "171A", stockType: "blocked" },
  },
  quantity: { value: "180", unit: "H87" },
  heldStockType: "blocked",
  reason: { code: "04", catalog: "InspectionLotOrigin", text: "Goods receipt from production" },
  placedAt: "2026-03-04T15:58:12-08:00",
  revision: "20260304155812",
  sourceRefs: [{ system: "S4PCLNT100", kind: "A_InspectionLot", key: "InspectionLot=40000000112" }],
};

const released: QualityHold = {
  ...placed,
  status: "released",
  disposition: { decision: "use", decidedAt: "2026-03-05T09:00:00-08:00" },
  revision: "20260305090000",
};

const holdEvent = (hold: QualityHold): CanonicalEvent =>
  createEvent({
    type: hold.status === "placed" ? "dev.millwright.qualityhold.placed.v1" : "dev.millwright.qualityhold.released.v1",
    source: "urn:millwright:sap:S4PCLNT100",
    time: hold.status === "placed" ? hold.placedAt : (hold.disposition?.decidedAt ?? hold.placedAt),
    data: hold,
  } as Parameters<typeof createEvent>[0])._unsafeUnwrap() as CanonicalEvent;

interface Setup {
  readonly peers: Peers;
  /** The current runtime (a new one after `restart`). */
  readonly runtime: WorkflowRuntime;
  /** Stops the runtime and starts a new one on a store from `makeStore`, as a restarted worker. */
  restart(): Promise<void>;
  readonly escalations: Escalation[];
  /** The manual clock of the runtime. */
  advance(ms: number): void;
  /** Runs due instances and delivers what the peers produced, until nothing moves. */
  drive(): Promise<void>;
}

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function setup(
  options: { readonly wmsFaults?: TestWmsFaults; readonly wmsPath?: string; readonly remediate?: QualityHoldWorkflowOptions["remediate"]; readonly makeStore?: () => WorkflowStore } = {},
): Promise<Setup> {
  const peers = await startPeers(options.wmsFaults === undefined ? {} : { wmsFaults: options.wmsFaults });
  closing.push(() => peers.close());
  const escalations: Escalation[] = [];
  let now = Date.parse("2026-03-04T16:00:00Z");
  const workflow = createQualityHoldWorkflow({
    sap: { client: peers.clients.materialDocuments, config: peers.sapConfig },
    wms: { url: `${peers.wms.url}${options.wmsPath ?? "/requests"}`, system: WMS_SYSTEM },
    retry: createRetryPolicy({ maxAttempts: 4, baseDelayMs: 0, maxDelayMs: 0 }),
    escalate: (e) => void escalations.push(e),
    ...(options.remediate === undefined ? {} : { remediate: options.remediate }),
  });
  const makeStore = options.makeStore ?? createMemoryWorkflowStore;
  const newRuntime = () => createWorkflowRuntime({ store: makeStore(), workflows: [workflow], clock: { now: () => now }, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  let runtime = newRuntime();
  const drive = async () => {
    for (let round = 0; round < 40; round++) {
      const ran = (await runtime.runDue())._unsafeUnwrap();
      const events = await peers.collect();
      for (const event of events) (await runtime.deliver(event))._unsafeUnwrap();
      if (ran === 0 && events.length === 0) return;
    }
    throw new Error("the workflow did not come to rest in 40 rounds");
  };
  return {
    peers,
    get runtime() {
      return runtime;
    },
    restart: async () => {
      await runtime.stop();
      runtime = newRuntime();
    },
    escalations,
    advance: (ms) => void (now += ms),
    drive,
  };
}

async function startHold(s: Setup, hold: QualityHold): Promise<string> {
  const delivered = (await s.runtime.deliver(holdEvent(hold)))._unsafeUnwrap();
  expect(delivered.started).toHaveLength(1);
  return delivered.started[0]?.id ?? "";
}

async function outcomeOf(s: Setup, id: string): Promise<{ state: string; output: QualityHoldOutcome }> {
  const snapshot = (await s.runtime.get(id))._unsafeUnwrap();
  return { state: snapshot.instance.state, output: snapshot.instance.output as unknown as QualityHoldOutcome };
}

const blockRequests = (peers: Peers) => peers.wms.applied.filter((a) => a.type === "block");

describe("quality hold against the test SAP system and the test WMS", () => {
  it("blocks in both systems once, waits for both confirmations, and unblocks both on release", async () => {
    const s = await setup();
    const id = await startHold(s, placed);
    await s.drive();
    const block = await outcomeOf(s, id);
    expect(block.state).toBe("completed");
    expect(block.output).toMatchObject({ outcome: "confirmed", action: "block", erp: { confirmed: true, by: "event", resent: false }, wms: { confirmed: true, by: "event", resent: false } });
    expect(postedDocuments(s.peers.sap).map((d) => d.movementTypes)).toEqual([["344"]]);
    expect(blockRequests(s.peers)).toHaveLength(1);
    // The steps' idempotency keys reached the peers: SAP's ReferenceDocument and the WMS request id.
    expect(postedDocuments(s.peers.sap)[0]?.reference).toBe(postingReference(stepIdempotencyKey("quality-hold", "40000000112/placed", "block-in-erp")));
    expect(blockRequests(s.peers)[0]?.requestId).toBe(stepIdempotencyKey("quality-hold", "40000000112/placed", "block-in-wms"));

    const releaseId = await startHold(s, released);
    await s.drive();
    const unblock = await outcomeOf(s, releaseId);
    expect(unblock.output).toMatchObject({ outcome: "confirmed", action: "unblock", erp: { confirmed: true }, wms: { confirmed: true } });
    expect(postedDocuments(s.peers.sap).map((d) => d.movementTypes)).toEqual([["344"], ["343"]]);
    expect(s.peers.wms.applied.map((a) => a.type)).toEqual(["block", "unblock"]);
    expect(s.escalations).toEqual([]);
  });

  it("a SAP answer lost after the posting was stored: the retry finds it by its reference and posts nothing more", async () => {
    const s = await setup();
    s.peers.sap.inject({ kind: "drop-response", method: "POST", pathIncludes: "A_MaterialDocumentHeader" });
    const id = await startHold(s, placed);
    await s.drive();
    expect(s.peers.sap.faultsApplied).toHaveLength(1);
    expect((await outcomeOf(s, id)).output).toMatchObject({ outcome: "confirmed", erp: { confirmed: true } });
    expect(postedDocuments(s.peers.sap)).toHaveLength(1);
    const history = (await s.runtime.get(id))._unsafeUnwrap().history;
    expect(history.filter((h) => h.type === "step-failed" && h.step === "block-in-erp")).toHaveLength(1);
  });

  it("a WMS that fails twice with 5xx: the request id makes the third attempt the only effect", async () => {
    const s = await setup({ wmsFaults: { failRequests: 2 } });
    const id = await startHold(s, placed);
    await s.drive();
    expect((await outcomeOf(s, id)).output).toMatchObject({ outcome: "confirmed", wms: { confirmed: true } });
    expect(s.peers.wms.received).toHaveLength(3);
    expect(blockRequests(s.peers)).toHaveLength(1);
  });

  it("a lost WMS confirmation: re-sent at the deadline with the same request id, no second block, confirmed", async () => {
    const s = await setup({ wmsFaults: { loseHoldConfirmations: 1 } });
    const id = await startHold(s, placed);
    await s.drive();
    expect((await outcomeOf(s, id)).state).toBe("waiting");
    s.advance(15 * 60_000);
    await s.drive();
    const { output } = await outcomeOf(s, id);
    expect(s.peers.wms.lostConfirmations).toHaveLength(1);
    expect(output).toMatchObject({ outcome: "confirmed", erp: { confirmed: true, resent: false }, wms: { confirmed: true, by: "event", resent: true } });
    const sent = s.peers.wms.received.filter((r) => (r as { type?: string }).type === "block");
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((r) => (r as { requestId: string }).requestId)).size).toBe(1);
    expect(blockRequests(s.peers)).toHaveLength(1);
  });

  it("a WMS confirmation lost twice is escalated once; the ERP block stays", async () => {
    const s = await setup({ wmsFaults: { loseHoldConfirmations: 2 } });
    const id = await startHold(s, placed);
    await s.drive();
    s.advance(15 * 60_000);
    await s.drive();
    s.advance(15 * 60_000);
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(s.peers.wms.lostConfirmations).toHaveLength(2);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "escalated", erp: { confirmed: true }, wms: { confirmed: false, resent: true } });
    expect(s.escalations).toHaveLength(1);
    expect(s.escalations[0]?.problems).toEqual([{ system: WMS_SYSTEM, problem: expect.stringContaining("did not confirm the block") }]);
    expect(blockRequests(s.peers)).toHaveLength(1);
    expect(postedDocuments(s.peers.sap).map((d) => d.movementTypes)).toEqual([["344"]]);
  });

  it("a lost SAP event: the re-send finds the posting under its reference (read-back) and posts nothing", async () => {
    const s = await setup();
    s.peers.loseSapEvents(1);
    const id = await startHold(s, placed);
    await s.drive();
    s.advance(15 * 60_000);
    await s.drive();
    expect(s.peers.lostSapEvents).toHaveLength(1);
    expect((await outcomeOf(s, id)).output).toMatchObject({ outcome: "confirmed", erp: { confirmed: true, by: "read-back", resent: true } });
    expect(postedDocuments(s.peers.sap)).toHaveLength(1);
  });

  it("a WMS that refuses the block for good: escalated, and the ERP block is NOT undone", async () => {
    const s = await setup({ wmsPath: "/no-such-endpoint" });
    const id = await startHold(s, placed);
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "escalated", erp: { confirmed: true }, wms: { confirmed: false, resent: false, problem: expect.stringContaining("failed for good") } });
    expect(s.escalations).toHaveLength(1);
    // One posting, the block (344): no 343 unblock as a "compensation".
    expect(postedDocuments(s.peers.sap).map((d) => d.movementTypes)).toEqual([["344"]]);
    expect(s.peers.wms.applied).toEqual([]);
  });

  it("SAP refusing the block for good: escalated, and the WMS block is NOT undone", async () => {
    const s = await setup();
    s.peers.sap.inject({ kind: "status", status: 400, method: "POST", pathIncludes: "A_MaterialDocumentHeader" });
    const id = await startHold(s, placed);
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(s.peers.sap.faultsApplied).toHaveLength(1);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "escalated", erp: { confirmed: false, problem: expect.stringContaining("failed for good") }, wms: { confirmed: true } });
    expect(postedDocuments(s.peers.sap)).toEqual([]);
    // One WMS request, the block: no unblock as a "compensation".
    expect(s.peers.wms.applied.map((a) => a.type)).toEqual(["block"]);
    expect(s.escalations).toHaveLength(1);
  });

  it("on SQLite, a worker restarted during the confirmation wait resumes it: re-sent once, no step run twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "millwright-builtin-"));
    const databases: { close(): void }[] = [];
    closing.push(async () => {
      for (const db of databases) db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const makeStore = () => {
      const db = openSqliteDatabase(join(dir, "workflows.db"))._unsafeUnwrap();
      databases.push(db);
      return createSqliteWorkflowStore(db);
    };
    const s = await setup({ wmsFaults: { loseHoldConfirmations: 1 }, makeStore });
    const id = await startHold(s, placed);
    await s.drive();
    expect((await outcomeOf(s, id)).state).toBe("waiting");
    await s.restart();
    s.advance(15 * 60_000);
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "confirmed", wms: { confirmed: true, resent: true } });
    expect(postedDocuments(s.peers.sap)).toHaveLength(1);
    expect(blockRequests(s.peers)).toHaveLength(1);
    const history = (await s.runtime.get(id))._unsafeUnwrap().history;
    expect(history.filter((h) => h.type === "step-started").map((h) => (h as { step: string }).step).sort()).toEqual(["block-in-erp", "block-in-wms", "block-in-wms-resend"]);
  });

  it("an alignment breach starts a remediation in the WMS only: a new unblock request, nothing posted in SAP", async () => {
    const s = await setup({ remediate: [{ rule: "qualityhold-unblocked-wms", hold: () => released, systems: ["wms"] }] });
    const finding: BreachedFinding = {
      kind: "breached",
      rule: "qualityhold-unblocked-wms",
      key: "FG126/B260302A",
      reasons: ["missing"],
      dueAt: "2026-03-05T18:00:00Z",
      latenessMs: 3_600_000,
      evidence: [],
      at: "2026-03-05T19:00:00Z",
      revision: "1772737200000",
    };
    const delivered = (await s.runtime.deliverFinding(finding))._unsafeUnwrap();
    expect(delivered.started.map((i) => i.key)).toEqual(["40000000112/released/remediation-1772737200000"]);
    await s.drive();
    const { output } = await outcomeOf(s, delivered.started[0]?.id ?? "");
    expect(output).toMatchObject({ outcome: "confirmed", action: "unblock", erp: { skipped: true }, wms: { confirmed: true, by: "event" } });
    expect(postedDocuments(s.peers.sap)).toEqual([]);
    expect(s.peers.wms.applied.map((a) => a.type)).toEqual(["unblock"]);
  });
});
