// The workflow the kill tests run in worker processes: a hold blocked in the test SAP system (a
// transfer posting keyed by ReferenceDocument) and in the test WMS (a block request keyed by its
// request id), a durable sleep, then an unblock in the WMS, or, when the input says so, a step
// that fails for good and compensates both blocks in reverse order. Every step and compensation
// calls `hook` at its boundaries, so the test can stop a worker exactly there.
import { createSapClient, createSapConfig } from "@millwright/adapter-sap";
import { createRetryPolicy, permanent } from "@millwright/idempotency";
import type { QualityHold } from "@millwright/model";
import { err } from "neverthrow";
import { holdRequestOf, postHoldTransfer, postingReference, sendWithRequestId } from "../../src/builtin/peers.js";
import { defineWorkflow, type WorkflowDefinition } from "../../src/index.js";

/** The workflow's name; its instances are keyed by the test. */
export const KILL_WORKFLOW = "kill-hold";

/** A placed hold on one batch (the quality-hold tests' fixture). */
const placedHold: QualityHold = {
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

/** The same hold released: its postings and requests undo the block. */
const releasedHold: QualityHold = {
  ...placedHold,
  status: "released",
  disposition: { decision: "use", decidedAt: "2026-03-05T09:00:00-08:00" },
  revision: "20260305090000",
};

/** The input of an instance. */
export interface KillInput {
  /** How long the durable sleep between the blocks and the end lasts, in ms. */
  readonly sleepMs: number;
  /** Whether the step after the sleep fails for good (the instance compensates). */
  readonly fail: boolean;
}

/** Called at each boundary: `<before-effect|after-effect|compensation>:<step>`. */
export type Hook = (point: string) => Promise<void>;

/**
 * The kill-test workflow over the test SAP system's material document service and the test WMS.
 *
 * @param options - the SAP service URL, the WMS request URL and the boundary hook
 * @returns the definition
 * @example
 * const workflow = killWorkflow({ sapUrl, wmsUrl, hook: async () => {} });
 */
export function killWorkflow(options: { readonly sapUrl: string; readonly wmsUrl: string; readonly hook: Hook }): WorkflowDefinition<KillInput, { readonly steps: number }> {
  const { hook } = options;
  const client = createSapClient({ serviceUrl: options.sapUrl, maxAttempts: 1, timeoutMs: 5000 });
  const config = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin", outboundUnits: { H87: "ST" } })._unsafeUnwrap();
  const wms = { url: options.wmsUrl };
  const retry = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10 });
  // Step timeouts are long: a step held at a boundary must still be in its first attempt when killed.
  const post = async (step: string, hold: QualityHold, idempotencyKey: string) => {
    const posted = await postHoldTransfer({ client, config, hold, reference: postingReference(idempotencyKey) });
    if (posted.isOk()) await hook(step);
    return posted.map((p) => ({ document: p.materialDocument, reference: p.reference, alreadyPosted: p.alreadyPosted }));
  };
  const send = async (step: string, hold: QualityHold, idempotencyKey: string) => {
    const sent = await sendWithRequestId(holdRequestOf(hold)._unsafeUnwrap(), idempotencyKey, wms, undefined);
    if (sent.isOk()) await hook(step);
    return sent;
  };
  return defineWorkflow<KillInput, { readonly steps: number }>({
    name: KILL_WORKFLOW,
    version: 1,
    run: async (wf, input) => {
      await wf.step(
        "block-in-erp",
        async (ctx) => {
          await hook("before-effect:block-in-erp");
          return post("after-effect:block-in-erp", placedHold, ctx.idempotencyKey);
        },
        { retry, timeout: "60s", compensate: (ctx) => post("compensation:block-in-erp", releasedHold, ctx.idempotencyKey) },
      );
      await wf.step(
        "block-in-wms",
        async (ctx) => {
          await hook("before-effect:block-in-wms");
          return send("after-effect:block-in-wms", placedHold, ctx.idempotencyKey);
        },
        { retry, timeout: "60s", compensate: (ctx) => send("compensation:block-in-wms", releasedHold, ctx.idempotencyKey) },
      );
      await wf.sleep(input.sleepMs, { name: "hold-period" });
      if (input.fail) await wf.step("check-stock", () => err(permanent("the stock check refused the batch for good")), { retry });
      await wf.step("unblock-in-wms", (ctx) => send("after-effect:unblock-in-wms", releasedHold, ctx.idempotencyKey), { retry, timeout: "60s" });
      return { steps: 3 };
    },
  });
}
