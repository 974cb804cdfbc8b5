// What the built-in workflows share: how a step's failure for good is caught by the body, and
// how a workflow tells a person that it needs one.
import type { CanonicalEvent } from "@millwright/events";
import { retryable, type HandlerError } from "@millwright/idempotency";
import { err, ok, type Result } from "neverthrow";
import type { MaterialMovement, StockType } from "@millwright/model";
import { StepFailedError, type StepContext, type WorkflowLogger } from "../define.js";

/**
 * The canonical event type of a booked goods movement: the confirmations the built-ins wait for.
 *
 * @example
 * wf.waitFor(MOVEMENT_POSTED, match, { timeout: "15m" });
 */
export const MOVEMENT_POSTED = "dev.millwright.materialmovement.posted.v1";

/** A step that ended: its result, or the failure that ended it for good. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly step: string; readonly message: string; readonly code: string };

/**
 * Waits for a step and turns its failure for good into a value, so the body decides what follows
 * (escalate rather than compensate). Anything else the runtime rejects with passes through.
 *
 * @param step - the promise of `wf.step(…)`
 * @returns the result or the failure
 * @example
 * const erp = await settle(wf.step("post-in-erp", post));
 */
export async function settle<T>(step: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await step };
  } catch (cause) {
    if (cause instanceof StepFailedError) return { ok: false, step: cause.step, message: cause.failure.message, code: cause.failure.code };
    throw cause;
  }
}

/** What a built-in workflow hands to a person when it cannot finish on its own. */
export interface Escalation {
  /** The workflow name, e.g. `quality-hold`. */
  readonly workflow: string;
  /** The instance key, e.g. `40000000112/placed`. */
  readonly key: string;
  readonly instanceId: string;
  /** One line a person can act on. */
  readonly summary: string;
  /** What is missing or failed, per system or step. */
  readonly problems: readonly { readonly system: string; readonly problem: string }[];
  /** The step's idempotency key: the escalation is delivered at least once, this identifies it. */
  readonly idempotencyKey: string;
}

/** Where escalations go: a ticket, a page, a message. Called once per escalation (retried on a thrown error or an error Result). */
export type Escalate = (escalation: Escalation) => void | Promise<void>;

/**
 * The escalation target when the user gave none: the instance's logger, at error level.
 *
 * @param logger - the step's logger
 * @returns an `Escalate` that logs
 * @example
 * const escalate = options.escalate ?? logEscalation(ctx.logger);
 */
function logEscalation(logger: WorkflowLogger): Escalate {
  return (escalation) => logger.error(`escalated: ${escalation.summary}`, { workflow: escalation.workflow, key: escalation.key, problems: escalation.problems });
}

/**
 * Whether a canonical movement event is one booked by `system` that moved this material (and
 * batch) into `stockType`, of `kind` when given, and, when `movementIds` is given, one of those
 * movements: the match of a confirmation wait.
 *
 * @param event - a canonical event
 * @param expected - the booking system (a `sourceRefs` system), material, batch, target stock type, kind and movement ids
 * @returns whether the event confirms the expected movement
 * @example
 * wf.waitFor(MOVEMENT_POSTED, (e) => movesInto(e, { system: "WMS-1", material: "FG126", batchId: "B1", stockType: "blocked" }), { timeout: "15m" });
 */
export function movesInto(
  event: CanonicalEvent,
  expected: { readonly system: string; readonly material: string; readonly batchId?: string | undefined; readonly stockType: StockType; readonly kind?: MaterialMovement["kind"]; readonly movementIds?: readonly string[] },
): boolean {
  if (event.type !== MOVEMENT_POSTED) return false;
  const m = event.data as MaterialMovement;
  if (m.material?.id !== expected.material) return false;
  if (expected.batchId !== undefined && m.batchId !== expected.batchId) return false;
  if (m.to?.stockType !== expected.stockType) return false;
  if (expected.kind !== undefined && m.kind !== expected.kind) return false;
  if (expected.movementIds !== undefined && !expected.movementIds.includes(m.movementId)) return false;
  return m.sourceRefs.some((ref) => ref.system === expected.system);
}

/**
 * Delivers an escalation from inside a step: a thrown error of `escalate` is a retryable step
 * error (the step is retried by its policy), so a ticket system that is down delays the
 * escalation rather than failing the instance.
 *
 * @param ctx - the escalating step's context (its idempotency key identifies the escalation)
 * @param escalate - where escalations go; default the step's logger
 * @param escalation - the escalation, without its key
 * @returns how many problems were escalated, or a retryable error
 * @example
 * await wf.step("escalate", (ctx) => escalateFrom(ctx, options.escalate, { workflow, key, instanceId, summary, problems }));
 */
export async function escalateFrom(ctx: StepContext<unknown>, escalate: Escalate | undefined, escalation: Omit<Escalation, "idempotencyKey">): Promise<Result<{ escalated: number }, HandlerError>> {
  try {
    await (escalate ?? logEscalation(ctx.logger))({ ...escalation, idempotencyKey: ctx.idempotencyKey });
  } catch (cause) {
    return err(retryable(`the escalation could not be delivered: ${cause instanceof Error ? cause.message : String(cause)}`, cause));
  }
  return ok({ escalated: escalation.problems.length });
}
