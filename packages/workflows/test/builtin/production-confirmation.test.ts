// The production-confirmation workflow against the test SAP system: the confirmation goes through
// @millwright/idempotency's outbox and relay (postConfirmation, ExternalSystemConfirmation as key),
// SAP's goods receipt for it comes back as a canonical movement; effects are counted at SAP.
import { buildMaterialDocumentCreate } from "@millwright/adapter-sap";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createMemoryStore, createOutboxRelay, createRetryPolicy, type Relay } from "@millwright/idempotency";
import type { ProductionConfirmation } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { createConfirmationPublisher, createProductionConfirmationWorkflow, type Escalation, type ProductionConfirmationOutcome } from "../../src/builtin/index.js";
import { createMemoryWorkflowStore, createWorkflowRuntime, type WorkflowRuntime } from "../../src/index.js";
import { CONFIRMATIONS, SAP_SYSTEM, startPeers, type Peers } from "./peers.js";

const completion: ProductionConfirmation = {
  confirmationId: "MES-C-0001",
  order: { orderId: "1000123", operationId: "0020" },
  site: { id: "1710" },
  yieldQuantity: { value: "180", unit: "H87" },
  isFinal: false,
  postingDate: "2026-03-03",
  executionStart: "2026-03-03T06:05:00-08:00",
  executionEnd: "2026-03-03T14:02:47-08:00",
  revision: "0",
  sourceRefs: [{ system: "MES-1", kind: "completion", key: "MES-C-0001" }],
};

const completionEvent = (): CanonicalEvent =>
  createEvent({ type: "dev.millwright.productionconfirmation.confirmed.v1", source: "urn:millwright:mes:mes-1", time: "2026-03-03T14:03:00-08:00", data: completion }).match(
    (e) => e as CanonicalEvent,
    (e) => {
      throw new Error(e.message);
    },
  );

interface Setup {
  readonly peers: Peers;
  readonly runtime: WorkflowRuntime;
  readonly relay: Relay;
  readonly store: ReturnType<typeof createMemoryStore>;
  readonly escalations: Escalation[];
  readonly publish: ReturnType<typeof createConfirmationPublisher>;
  advance(ms: number): void;
  drive(): Promise<void>;
}

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

/** SAP's confirmations stored (created by a POST, not seeded). */
const confirmations = (peers: Peers) => peers.sap.rows(CONFIRMATIONS, "ProdnOrdConf2");
const confirmationPosts = (peers: Peers) => peers.sap.posts.filter((p) => p.entitySet === "ProdnOrdConf2" && p.functionImport === undefined);

async function setup(options: { readonly sapPostsGoodsReceipt?: boolean } = {}): Promise<Setup> {
  const peers = await startPeers();
  closing.push(() => peers.close());
  const store = createMemoryStore();
  const escalations: Escalation[] = [];
  let now = Date.parse("2026-03-03T22:03:00Z");
  const workflow = createProductionConfirmationWorkflow({
    store,
    source: "urn:millwright:workflows:production-confirmation",
    erpSystem: SAP_SYSTEM,
    retry: createRetryPolicy({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }),
    escalate: (e) => void escalations.push(e),
  });
  const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [workflow], clock: { now: () => now }, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  const publish = createConfirmationPublisher({ client: peers.clients.confirmations, config: peers.sapConfig, post: { readAfterWriteDelayMs: 0 } });
  const relay = createOutboxRelay(store, { publish });
  // SAP posts the goods receipt of a confirmation itself (automatic goods receipt): played here
  // by posting a 101 for every new confirmation, through SAP's material document API.
  const receipted = new Set<unknown>();
  const goodsReceipts = async () => {
    if (options.sapPostsGoodsReceipt === false) return;
    for (const row of confirmations(peers)) {
      if (receipted.has(row["ExternalSystemConfirmation"])) continue;
      receipted.add(row["ExternalSystemConfirmation"]);
      const body = buildMaterialDocumentCreate(
        [
          {
            movementId: "new",
            kind: "produced",
            postingDate: completion.postingDate,
            material: { id: "FG-4711" },
            quantity: completion.yieldQuantity,
            to: { site: { id: "1710" }, storageLocation: "171A", stockType: "unrestricted" },
            order: { orderId: String(row["OrderID"]) },
            revision: "0",
            sourceRefs: [{ system: SAP_SYSTEM, kind: "A_MaterialDocumentItem", key: "new" }],
          },
        ],
        peers.sapConfig,
      )._unsafeUnwrap();
      (await peers.clients.materialDocuments.create("A_MaterialDocumentHeader", body))._unsafeUnwrap();
    }
  };
  const drive = async () => {
    for (let round = 0; round < 40; round++) {
      const ran = (await runtime.runDue())._unsafeUnwrap();
      const relayed = (await relay.runOnce())._unsafeUnwrap();
      await goodsReceipts();
      const events = await peers.collect();
      for (const event of events) (await runtime.deliver(event))._unsafeUnwrap();
      if (ran === 0 && relayed.published === 0 && events.length === 0) return;
    }
    throw new Error("the workflow did not come to rest in 40 rounds");
  };
  return { peers, runtime, relay, store, escalations, publish, advance: (ms) => void (now += ms), drive };
}

async function outcomeOf(s: Setup, id: string) {
  const snapshot = (await s.runtime.get(id))._unsafeUnwrap();
  return { state: snapshot.instance.state, output: snapshot.instance.output as unknown as ProductionConfirmationOutcome };
}

describe("production confirmation through the outbox to the test SAP system", () => {
  it("posts the MES completion once with the step's key as ExternalSystemConfirmation and waits for SAP's goods receipt", async () => {
    const s = await setup();
    const delivered = (await s.runtime.deliver(completionEvent()))._unsafeUnwrap();
    // A redelivered completion finds the same instance.
    const again = (await s.runtime.deliver(completionEvent()))._unsafeUnwrap();
    expect(again.started.map((i) => [i.id, i.created])).toEqual([[delivered.started[0]?.id, false]]);
    const id = delivered.started[0]?.id ?? "";
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "confirmed", confirmationId: "MES-C-0001", movements: { "goods-receipt": expect.stringMatching(/^2026\//) } });
    expect(confirmations(s.peers)).toHaveLength(1);
    expect(confirmations(s.peers)[0]).toMatchObject({ OrderID: "1000123", ConfirmationYieldQuantity: "180", ExternalSystemConfirmation: output.externalId });
    expect(confirmationPosts(s.peers)).toHaveLength(1);
    expect(s.escalations).toEqual([]);
  });

  it("a record the relay publishes again (a crash before it was marked sent) is not posted twice", async () => {
    const s = await setup();
    (await s.runtime.deliver(completionEvent()))._unsafeUnwrap();
    (await s.runtime.runDue())._unsafeUnwrap();
    const [record] = await s.store.pendingOutbox(10);
    expect(record).toBeDefined();
    if (record === undefined) return;
    const first = await s.publish(record);
    const second = await s.publish(record);
    expect([first.isOk(), second.isOk()]).toEqual([true, true]);
    expect(confirmationPosts(s.peers)).toHaveLength(1);
    expect(confirmations(s.peers)).toHaveLength(1);
  });

  it("a SAP answer lost after the confirmation was stored: found by its ExternalSystemConfirmation, not posted again", async () => {
    const s = await setup();
    s.peers.sap.inject({ kind: "drop-response", method: "POST", pathIncludes: "ProdnOrdConf2" });
    const id = (await s.runtime.deliver(completionEvent()))._unsafeUnwrap().started[0]?.id ?? "";
    await s.drive();
    expect(s.peers.sap.faultsApplied).toHaveLength(1);
    expect(confirmationPosts(s.peers)).toHaveLength(1);
    expect(confirmations(s.peers)).toHaveLength(1);
    expect((await outcomeOf(s, id)).output).toMatchObject({ outcome: "confirmed" });
  });

  it("no goods receipt by the deadline: escalated once, the posted confirmation is not cancelled", async () => {
    const s = await setup({ sapPostsGoodsReceipt: false });
    const id = (await s.runtime.deliver(completionEvent()))._unsafeUnwrap().started[0]?.id ?? "";
    await s.drive();
    expect((await outcomeOf(s, id)).state).toBe("waiting");
    s.advance(30 * 60_000);
    await s.drive();
    const { state, output } = await outcomeOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "escalated", movements: { "goods-receipt": null } });
    expect(s.escalations).toHaveLength(1);
    expect(s.escalations[0]?.summary).toContain("booked no goods-receipt");
    expect(confirmations(s.peers)).toHaveLength(1);
    expect(s.peers.sap.posts.filter((p) => p.functionImport === "CancelProdnOrdConf")).toEqual([]);
  });
});
