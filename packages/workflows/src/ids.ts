import { uuidV5 } from "@millwright/events";

/**
 * The namespace of workflow ids and step idempotency keys: UUIDv5 of
 * "https://schemas.millwright.dev/v1/workflows" in the RFC 9562 URL namespace. Fixed forever:
 * changing it would change every instance id and every idempotency key sent to a peer.
 */
export const WORKFLOW_NAMESPACE = "20a5735b-43c3-5cd7-8fcd-a0ae7f4d7e7f";

const NUL = "\u0000";

/**
 * The id of the instance of a workflow for a key: the same (workflow, key) always names the same
 * instance, whatever its version, so starting it twice finds the first.
 *
 * @param workflow - the workflow name
 * @param key - the instance key, such as a hold id
 * @returns a lower-case UUID
 * @example
 * instanceIdOf("quality-hold", "QH-1001");
 */
export function instanceIdOf(workflow: string, key: string): string {
  return uuidV5(WORKFLOW_NAMESPACE, ["instance", workflow, key].join(NUL));
}

/**
 * The idempotency key of a step (or, with `kind: "compensation"`, of its compensation): UUIDv5 of
 * the workflow name, the instance key and the step name. The same on every attempt, every worker
 * and every replay: pass it to the peer (SAP's ExternalSystemConfirmation, the WMS request id,
 * the outbox record) so a repeated attempt does not repeat the effect.
 *
 * @param workflow - the workflow name
 * @param key - the instance key
 * @param step - the step name
 * @param kind - `step` (default) or `compensation`
 * @returns a lower-case UUID
 * @example
 * stepIdempotencyKey("quality-hold", "QH-1001", "block-in-erp");
 */
export function stepIdempotencyKey(workflow: string, key: string, step: string, kind: "step" | "compensation" = "step"): string {
  return uuidV5(WORKFLOW_NAMESPACE, [kind, workflow, key, step].join(NUL));
}
