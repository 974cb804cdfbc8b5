// The production-confirmation workflow: a completion reported by the MES goes to the ERP through
// the transactional outbox (the relay posts it with SAP's ExternalSystemConfirmation as its key),
// then the workflow waits for the goods movements the ERP books for it; missing ones are escalated.
import { postConfirmation, type PostConfirmationOptions, type SapAdapterConfig, type SapClient } from "@millwright/adapter-sap";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createOutbox, createRetryPolicy, permanent, retryable, type HandlerError, type IdempotencyStore, type OutboxRecord, type RetryPolicy } from "@millwright/idempotency";
import type { MaterialMovement, ProductionConfirmation } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { defineWorkflow, onEvent, type WorkflowContext, type WorkflowDefinition } from "../define.js";
import type { DeadlineSpec, Duration, TraceCarrier } from "../types.js";
import { escalateFrom, MOVEMENT_POSTED, type Escalate } from "./common.js";

/** The input of a production-confirmation instance: the MES's confirmation and its event's time and trace. */
export interface ProductionConfirmationInput {
  readonly confirmation: ProductionConfirmation;
  /** The completion event's `time`. */
  readonly time: string;
  readonly trace?: TraceCarrier;
}

/** A goods movement the ERP is expected to book for a confirmation. */
export interface ExpectedMovement {
  /** A name for the output and the wait, `[a-z0-9-]+` (e.g. `goods-receipt`). */
  readonly name: string;
  /** Whether a canonical movement of the ERP is this one. */
  readonly matches: (movement: MaterialMovement) => boolean;
}

/** What {@link createProductionConfirmationWorkflow} takes. */
export interface ProductionConfirmationWorkflowOptions<TTx> {
  /** Default `production-confirmation`. */
  readonly name?: string;
  readonly version?: number;
  /** The store whose outbox the confirmation is written to; run a relay with {@link createConfirmationPublisher} on it. */
  readonly store: IdempotencyStore<TTx>;
  /** The canonical `source` of the outbox events, e.g. `urn:millwright:workflows:production-confirmation`. */
  readonly source: string;
  /** The ERP's `sourceRefs` system (`SapAdapterConfig.system`): the movements waited for are the ERP's. */
  readonly erpSystem: string;
  /** Which confirmed events are MES completions (default: those not from the ERP, by `sourceRefs`). */
  readonly fromMes?: (event: CanonicalEvent<"dev.millwright.productionconfirmation.confirmed.v1">) => boolean;
  /**
   * The goods movements to wait for; default: the goods receipt (`produced`) of the order when the
   * confirmation has yield. Add component issues when the ERP backflushes them.
   */
  readonly expectedMovements?: (confirmation: ProductionConfirmation) => readonly ExpectedMovement[];
  /** How long each expected movement may take (default `30m`). */
  readonly goodsMovementTimeout?: Duration;
  /** The recovery objective (default 2 h, then escalate). */
  readonly deadline?: DeadlineSpec;
  readonly retry?: RetryPolicy;
  readonly stepTimeout?: Duration;
  /** Where escalations go; default the logger at error level. */
  readonly escalate?: Escalate;
}

/** The output of a production-confirmation instance. */
export interface ProductionConfirmationOutcome {
  readonly confirmationId: string;
  /** The `ExternalSystemConfirmation` the ERP posting carries. */
  readonly externalId: string;
  /** The id of the outbox event the relay posts. */
  readonly outboxEventId: string;
  readonly outcome: "confirmed" | "escalated";
  /** Per expected movement: the movement id, or null when it did not come. */
  readonly movements: Readonly<Record<string, string | null>>;
}

const DEFAULT_RETRY = createRetryPolicy({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 });

/**
 * The default expectation: the goods receipt of the confirmed order, when there is yield.
 *
 * @param confirmation - the confirmation
 * @returns the goods receipt, or nothing for a confirmation without yield
 * @example
 * goodsReceiptOf(confirmation).map((m) => m.name); // ["goods-receipt"]
 */
export function goodsReceiptOf(confirmation: ProductionConfirmation): readonly ExpectedMovement[] {
  if (/^0*(\.0*)?$/.test(confirmation.yieldQuantity.value)) return [];
  return [{ name: "goods-receipt", matches: (m) => m.kind === "produced" && m.isReversal !== true && m.order?.orderId === confirmation.order.orderId }];
}

/**
 * Creates the production-confirmation workflow, started by `…productionconfirmation.confirmed.v1`
 * from the MES (key: the confirmation id).
 *
 * Steps: `enqueue-confirmation` writes the confirmation (with `externalId`, SAP's
 * ExternalSystemConfirmation: the confirmation's own, else the step's idempotency key) to the
 * outbox in one transaction of `store`, under the step's idempotency key as event id (a retried
 * step adds nothing: the outbox keeps one record per id); the relay posts it with
 * {@link createConfirmationPublisher}. Then one wait per expected goods movement of the ERP
 * (`goodsMovementTimeout` each); a missing one is escalated (`escalate` step).
 *
 * No compensation: a posted confirmation is not cancelled by the workflow. Cancelling it in SAP
 * reverses its goods movements and costs, a business decision for a person, who gets the escalation.
 *
 * @param options - the outbox store, the canonical source, the ERP system, expectations and timing
 * @returns the workflow definition
 * @example
 * const confirm = createProductionConfirmationWorkflow({ store, source: "urn:millwright:workflows:confirmations", erpSystem: "S4PCLNT100" });
 * const relay = createOutboxRelay(store, { publish: createConfirmationPublisher({ client, config }) });
 */
export function createProductionConfirmationWorkflow<TTx>(options: ProductionConfirmationWorkflowOptions<TTx>): WorkflowDefinition<ProductionConfirmationInput, ProductionConfirmationOutcome> {
  const name = options.name ?? "production-confirmation";
  const stepOptions = { retry: options.retry ?? DEFAULT_RETRY, timeout: options.stepTimeout ?? "30s" } as const;
  const timeout = options.goodsMovementTimeout ?? "30m";
  const outbox = createOutbox(options.store);
  const expected = options.expectedMovements ?? goodsReceiptOf;
  const fromMes = options.fromMes ?? ((e) => !e.data.sourceRefs.some((r) => r.system === options.erpSystem));

  const run = async (wf: WorkflowContext<ProductionConfirmationInput>, input: ProductionConfirmationInput): Promise<ProductionConfirmationOutcome> => {
    const { confirmation } = input;
    const queued = await wf.step(
      "enqueue-confirmation",
      async (ctx): Promise<Result<{ outboxEventId: string; externalId: string }, HandlerError>> => {
        const externalId = confirmation.externalId ?? ctx.idempotencyKey;
        const event = createEvent({
          type: "dev.millwright.productionconfirmation.confirmed.v1",
          source: options.source,
          id: ctx.idempotencyKey,
          time: input.time,
          data: { ...confirmation, externalId },
          ...(input.trace === undefined ? {} : { traceparent: input.trace.traceparent, ...(input.trace.tracestate === undefined ? {} : { tracestate: input.trace.tracestate }) }),
        });
        if (event.isErr()) return err(permanent(`confirmation ${confirmation.confirmationId} is not a valid event: ${event.error.message}`, event.error));
        try {
          await options.store.transaction(async (tx) => {
            const added = await outbox.add(tx, [event.value]);
            // Thrown inside the transaction, so that it rolls back.
            if (added.isErr()) throw new Error(added.error.message);
          });
        } catch (cause) {
          return err(retryable(`writing confirmation ${confirmation.confirmationId} to the outbox failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause));
        }
        return ok({ outboxEventId: event.value.id, externalId });
      },
      stepOptions,
    );

    const movements: Record<string, string | null> = {};
    for (const expectation of expected(confirmation)) {
      const outcome = await wf.waitFor(
        MOVEMENT_POSTED,
        (e) => e.data.sourceRefs.some((r) => r.system === options.erpSystem) && expectation.matches(e.data as MaterialMovement),
        { timeout, name: `wait-${expectation.name}` },
      );
      movements[expectation.name] = outcome.kind === "event" ? outcome.event.data.movementId : null;
    }
    const missing = Object.entries(movements).filter(([, id]) => id === null).map(([m]) => m);
    const result = { confirmationId: confirmation.confirmationId, externalId: queued.externalId, outboxEventId: queued.outboxEventId, movements };
    if (missing.length === 0) return { ...result, outcome: "confirmed" };
    await wf.step(
      "escalate",
      (ctx) =>
        escalateFrom(ctx, options.escalate, {
          workflow: name,
          key: wf.key,
          instanceId: wf.instanceId,
          summary: `confirmation ${confirmation.confirmationId} of order ${confirmation.order.orderId}: the ERP booked no ${missing.join(", ")} within ${String(timeout)}`,
          problems: missing.map((m) => ({ system: options.erpSystem, problem: `${m} missing (ExternalSystemConfirmation ${queued.externalId})` })),
        }),
      stepOptions,
    );
    return { ...result, outcome: "escalated" };
  };

  return defineWorkflow<ProductionConfirmationInput, ProductionConfirmationOutcome>({
    name,
    version: options.version ?? 1,
    description: "Production confirmation: MES completion → ERP through the outbox (ExternalSystemConfirmation as key) → wait for the ERP's goods movements; escalate what is missing.",
    start: [
      onEvent("dev.millwright.productionconfirmation.confirmed.v1", {
        key: (e) => e.data.confirmationId,
        input: (e): ProductionConfirmationInput => ({
          confirmation: e.data as ProductionConfirmation,
          time: e.time ?? `${e.data.postingDate}T00:00:00Z`,
          ...(e.traceparent === undefined ? {} : { trace: { traceparent: e.traceparent, ...(e.tracestate === undefined ? {} : { tracestate: e.tracestate }) } }),
        }),
        when: fromMes,
      }),
    ],
    deadline: options.deadline ?? { after: "2h", action: "escalate" },
    run,
  });
}

/** What {@link createConfirmationPublisher} takes. */
export interface ConfirmationPublisherOptions {
  /** A client of API_PROD_ORDER_CONFIRMATION_2_SRV. */
  readonly client: SapClient;
  readonly config: SapAdapterConfig;
  /** Passed to `postConfirmation` (attempts, read-after-write delay). */
  readonly post?: Pick<PostConfirmationOptions, "maxAttempts" | "readAfterWriteDelayMs">;
}

/**
 * The outbox relay's publisher for confirmations written by the production-confirmation workflow:
 * posts each to SAP with `postConfirmation`, which looks the confirmation up by its
 * ExternalSystemConfirmation before it posts, so a record published again (after a relay crash)
 * is not posted twice.
 *
 * @param options - the SAP client and configuration
 * @returns a publisher for `createOutboxRelay`; an error Result leaves the record for the next round
 * @example
 * const relay = createOutboxRelay(store, { publish: createConfirmationPublisher({ client, config }) });
 */
export function createConfirmationPublisher(options: ConfirmationPublisherOptions): (record: OutboxRecord) => Promise<Result<unknown, { readonly message: string }>> {
  return async (record) => {
    let event: CanonicalEvent<"dev.millwright.productionconfirmation.confirmed.v1">;
    try {
      event = JSON.parse(record.payload) as CanonicalEvent<"dev.millwright.productionconfirmation.confirmed.v1">;
    } catch {
      return err({ message: `outbox record ${record.id} is not JSON` });
    }
    return postConfirmation(options.client, event.data as ProductionConfirmation, options.config, { event, ...options.post }).mapErr((e) => ({ message: e.message }));
  };
}
