// The quality-hold workflow: a hold placed is blocked in the ERP and in the WMS at once; a hold
// released is unblocked in both. Each side is confirmed by the canonical movement its system books;
// a confirmation missing at its deadline is re-sent under the same key, then escalated.
import type { SapAdapterConfig, SapClient } from "@millwright/adapter-sap";
import type { BreachedFinding } from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import { createRetryPolicy, type RetryPolicy } from "@millwright/idempotency";
import type { QualityHold } from "@millwright/model";
import { defineWorkflow, onBreach, onEvent, type WorkflowContext, type WorkflowDefinition, type WorkflowTrigger } from "../define.js";
import type { DeadlineSpec, Duration } from "../types.js";
import { escalateFrom, MOVEMENT_POSTED, movesInto, settle, type Escalate, type Settled } from "./common.js";
import { holdRequestOf, postHoldTransfer, postingReference, sendWithRequestId, targetStockTypes, type HoldPosting, type WmsEndpoint } from "./peers.js";

/** What {@link createQualityHoldWorkflow} takes: the user's SAP and WMS, and the workflow's timing. */
export interface QualityHoldWorkflowOptions {
  /** Default `quality-hold`. */
  readonly name?: string;
  /** Default 1. */
  readonly version?: number;
  /** The ERP: a client of API_MATERIAL_DOCUMENT_SRV and the adapter configuration (its `system` names the ERP's movements). */
  readonly sap: {
    readonly client: SapClient;
    readonly config: SapAdapterConfig;
    /** The SAP unit of a hold's quantity, as SAP sent it; default from the unit table. */
    readonly unit?: (hold: QualityHold) => string | undefined;
  };
  /** The WMS: its request endpoint, and the `sourceRefs` system of the movements its confirmations become. */
  readonly wms: WmsEndpoint & { readonly system: string };
  /** How long each system has to confirm before the request is re-sent, and again after that (default `15m`). */
  readonly confirmationTimeout?: Duration;
  /** The recovery objective of an instance (default 4 h, then escalate). */
  readonly deadline?: DeadlineSpec;
  /** Retry policy of the posting and request steps (default 5 attempts, 1 s doubling to 1 min). */
  readonly retry?: RetryPolicy;
  /** Time limit of one attempt of a step (default `30s`). */
  readonly stepTimeout?: Duration;
  /** Where escalations go; default the instance's logger at error level. */
  readonly escalate?: Escalate;
  /**
   * Alignment rules whose breaches start a remediation: the hold change is applied again, under
   * new keys (a new instance), in the systems named (`systems`, default both), with the hold a
   * finding is about. A remediation of "the WMS did not follow" names `["wms"]` only: posting
   * the ERP side again would move stock twice.
   */
  readonly remediate?: readonly {
    readonly rule: string;
    readonly hold: (finding: BreachedFinding) => QualityHold;
    readonly systems?: readonly ("erp" | "wms")[];
  }[];
}

/** The input of a quality-hold instance: the hold as its event carries it, and the systems to act in. */
export interface QualityHoldInput {
  readonly hold: QualityHold;
  /** Both for a hold event; a remediation may name one. */
  readonly systems: readonly ("erp" | "wms")[];
}

/** How one system's side of a hold change ended. */
export interface HoldSide {
  readonly confirmed: boolean;
  /** The instance did not act in this system (a remediation of the other one). */
  readonly skipped?: true;
  /** `event`: its canonical movement arrived; `read-back`: the re-send found the posting in SAP; absent when not confirmed. */
  readonly by?: "event" | "read-back";
  /** Whether the request was re-sent after the first wait timed out. */
  readonly resent: boolean;
  /** The id the request carried (SAP `ReferenceDocument`, WMS request id). */
  readonly key?: string;
  /** Why the side is not confirmed. */
  readonly problem?: string;
}

/** The output of a quality-hold instance. */
export interface QualityHoldOutcome {
  readonly holdId: string;
  readonly action: "block" | "unblock";
  /** `confirmed`: both systems confirmed; `escalated`: a person was asked to act. */
  readonly outcome: "confirmed" | "escalated";
  readonly erp: HoldSide;
  readonly wms: HoldSide;
}

const DEFAULT_RETRY = createRetryPolicy({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 });

function stockOf(hold: QualityHold): { readonly material: string; readonly batchId?: string } | undefined {
  const scope = hold.scope;
  if (scope.kind === "batch") return { material: scope.batch.material.id, batchId: scope.batch.batchId };
  if (scope.kind === "material") return { material: scope.material.id };
  return scope.material === undefined ? undefined : { material: scope.material.id };
}

/**
 * The instance key of a hold change: the hold and what happened to it, so that placing and
 * releasing a hold are two instances, and a redelivered event finds its instance.
 *
 * @param hold - the hold as the event carries it
 * @returns `<holdId>/<status>`
 * @example
 * qualityHoldKey(hold); // "40000000112/placed"
 */
export function qualityHoldKey(hold: Pick<QualityHold, "holdId" | "status">): string {
  return `${hold.holdId}/${hold.status}`;
}

/**
 * Creates the quality-hold workflow. Started by `…qualityhold.placed.v1` (block) and by
 * `…qualityhold.released.v1` with status `released` (unblock), or by the breaches of `remediate`.
 *
 * Steps: `<block|unblock>-in-erp` (SAP transfer posting 344/322 or 343/321, keyed by
 * `ReferenceDocument`) and `<…>-in-wms` (WMS request, keyed by request id) in parallel; then, in
 * parallel, each system's confirmation (a canonical movement of that system into the target stock
 * type), with `confirmationTimeout`; a missing one is re-sent once with the same key
 * (`<…>-resend`, no second effect at the peer) and waited for again; what is still missing, and a
 * step that failed for good, is escalated (`escalate` step), and the instance completes with
 * outcome `escalated`.
 *
 * No step has a compensation: a block that one system failed to apply is not undone in the other
 * (unblocking stock because the other system failed to block it would release suspect material);
 * an unblock is not re-blocked either (the hold is over). Both are escalated instead.
 *
 * @param options - the SAP client and configuration, the WMS endpoint, timing and escalation
 * @returns the workflow definition, for `createWorkflowRuntime({ workflows: [...] })`
 * @example
 * const hold = createQualityHoldWorkflow({
 *   sap: { client: createSapClient({ serviceUrl: materialDocumentServiceUrl }), config },
 *   wms: { url: "https://wms.example.com/requests", system: "WMS-1" },
 *   escalate: (e) => pager.open(e.summary),
 * });
 */
export function createQualityHoldWorkflow(options: QualityHoldWorkflowOptions): WorkflowDefinition<QualityHoldInput, QualityHoldOutcome> {
  const name = options.name ?? "quality-hold";
  const timeout = options.confirmationTimeout ?? "15m";
  const stepOptions = { retry: options.retry ?? DEFAULT_RETRY, timeout: options.stepTimeout ?? "30s" } as const;
  const { sap, wms } = options;
  const both = ["erp", "wms"] as const;
  const start: WorkflowTrigger<QualityHoldInput>[] = [
    onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => qualityHoldKey(e.data), input: (e) => ({ hold: e.data as QualityHold, systems: both }) }),
    onEvent("dev.millwright.qualityhold.released.v1", {
      key: (e) => qualityHoldKey(e.data),
      input: (e) => ({ hold: e.data as QualityHold, systems: both }),
      when: (e) => e.data.status === "released",
    }),
    ...(options.remediate ?? []).map(({ rule, hold, systems }) =>
      onBreach<QualityHoldInput>(rule, { key: (f) => `${qualityHoldKey(hold(f))}/remediation-${f.revision}`, input: (f) => ({ hold: hold(f), systems: systems ?? both }) }),
    ),
  ];

  const run = async (wf: WorkflowContext<QualityHoldInput>, { hold, systems }: QualityHoldInput): Promise<QualityHoldOutcome> => {
    const skipped: HoldSide = { confirmed: false, skipped: true, resent: false };
    const action = hold.status === "placed" ? "block" : "unblock";
    const targets = targetStockTypes(hold);
    const stock = stockOf(hold);
    const unit = sap.unit?.(hold);
    const post = (reference: string, trace: Parameters<typeof postHoldTransfer>[0]["trace"]) =>
      postHoldTransfer({ client: sap.client, config: sap.config, hold, reference, trace, ...(unit === undefined ? {} : { unit }) });
    const send = (requestId: string, trace: Parameters<typeof sendWithRequestId>[3]) => {
      const request = holdRequestOf(hold);
      return request.isErr() ? Promise.resolve(request.map(() => ({ requestId, status: 0 }))) : sendWithRequestId(request.value, requestId, wms, trace);
    };

    const [erp, wmsSent] = await wf.parallel([
      () => (systems.includes("erp") ? settle(wf.step(`${action}-in-erp`, (ctx) => post(postingReference(ctx.idempotencyKey), ctx.trace), stepOptions)) : Promise.resolve(undefined)),
      () => (systems.includes("wms") ? settle(wf.step(`${action}-in-wms`, (ctx) => send(ctx.idempotencyKey, ctx.trace), stepOptions)) : Promise.resolve(undefined)),
    ]);

    const erpConfirmation = async (posted: Settled<HoldPosting> | undefined): Promise<HoldSide> => {
      if (posted === undefined) return skipped;
      if (!posted.ok) return { confirmed: false, resent: false, problem: `the SAP posting failed for good: ${posted.message}` };
      const ids = (p: HoldPosting) => p.movements.map((m) => m.movementId);
      const matches = (p: HoldPosting) => (e: CanonicalEvent<typeof MOVEMENT_POSTED>) =>
        stock !== undefined && movesInto(e, { system: sap.config.system, ...stock, stockType: targets.erp, kind: "status_changed", ...(ids(p).length > 0 ? { movementIds: ids(p) } : {}) });
      const key = posted.value.reference;
      const first = await wf.waitFor(MOVEMENT_POSTED, matches(posted.value), { timeout, name: `${action}-erp-confirmation` });
      if (first.kind === "event") return { confirmed: true, by: "event", resent: false, key };
      const again = await settle(wf.step(`${action}-in-erp-resend`, (ctx) => post(key, ctx.trace), stepOptions));
      if (!again.ok) return { confirmed: false, resent: true, key, problem: `no confirmation within ${String(timeout)}, and the re-send failed for good: ${again.message}` };
      // SAP books a transfer posting when it stores it: a posting found under our key is the block itself.
      if (again.value.alreadyPosted && again.value.movements.some((m) => m.toStockType === targets.erp)) return { confirmed: true, by: "read-back", resent: true, key };
      const second = await wf.waitFor(MOVEMENT_POSTED, matches(again.value), { timeout, name: `${action}-erp-confirmation-after-resend` });
      if (second.kind === "event") return { confirmed: true, by: "event", resent: true, key };
      return { confirmed: false, resent: true, key, problem: `SAP did not confirm the ${action} (no ${targets.erp} movement) within ${String(timeout)}, twice` };
    };

    const wmsConfirmation = async (sent: Settled<{ readonly requestId: string }> | undefined): Promise<HoldSide> => {
      if (sent === undefined) return skipped;
      if (!sent.ok) return { confirmed: false, resent: false, problem: `the WMS request failed for good: ${sent.message}` };
      const key = sent.value.requestId;
      // A stock status change, not any movement into the target stock type: a pick of the released
      // batch lands in unrestricted stock too, and must not pass for the unblock.
      const matches = (e: CanonicalEvent<typeof MOVEMENT_POSTED>) => stock !== undefined && movesInto(e, { system: wms.system, ...stock, stockType: targets.wms, kind: "status_changed" });
      const first = await wf.waitFor(MOVEMENT_POSTED, matches, { timeout, name: `${action}-wms-confirmation` });
      if (first.kind === "event") return { confirmed: true, by: "event", resent: false, key };
      const again = await settle(wf.step(`${action}-in-wms-resend`, (ctx) => send(key, ctx.trace), stepOptions));
      if (!again.ok) return { confirmed: false, resent: true, key, problem: `no confirmation within ${String(timeout)}, and the re-send failed for good: ${again.message}` };
      const second = await wf.waitFor(MOVEMENT_POSTED, matches, { timeout, name: `${action}-wms-confirmation-after-resend` });
      if (second.kind === "event") return { confirmed: true, by: "event", resent: true, key };
      return { confirmed: false, resent: true, key, problem: `the WMS did not confirm the ${action} (no ${targets.wms} movement) within ${String(timeout)}, twice` };
    };

    const [erpSide, wmsSide] = await wf.parallel([() => erpConfirmation(erp), () => wmsConfirmation(wmsSent)]);
    const problems = [
      ...(erpSide.problem === undefined ? [] : [{ system: sap.config.system, problem: erpSide.problem }]),
      ...(wmsSide.problem === undefined ? [] : [{ system: wms.system, problem: wmsSide.problem }]),
    ];
    if (problems.length === 0) return { holdId: hold.holdId, action, outcome: "confirmed", erp: erpSide, wms: wmsSide };
    await wf.step(
      "escalate",
      (ctx) =>
        escalateFrom(ctx, options.escalate, {
          workflow: name,
          key: wf.key,
          instanceId: wf.instanceId,
          summary: `hold ${hold.holdId}: the ${action} is not confirmed by ${problems.map((p) => p.system).join(" and ")}`,
          problems,
        }),
      stepOptions,
    );
    return { holdId: hold.holdId, action, outcome: "escalated", erp: erpSide, wms: wmsSide };
  };

  return defineWorkflow<QualityHoldInput, QualityHoldOutcome>({
    name,
    version: options.version ?? 1,
    description: "Quality hold: block (placed) or unblock (released) in the ERP and the WMS, wait for both confirmations, re-send once, escalate.",
    start,
    deadline: options.deadline ?? { after: "4h", action: "escalate" },
    run,
  });
}
