import { createEvent, type CreatedEvent, type EventError } from "@millwright/events";
import type { Alignment } from "@millwright/model";
import { err, type Result } from "neverthrow";
import type { Finding } from "./finding.js";

/** The canonical event types of alignment findings. */
export type AlignmentEventType = "dev.millwright.alignment.breached.v1" | "dev.millwright.alignment.resolved.v1";

/** A finding as a canonical CloudEvent: `dev.millwright.alignment.breached.v1` or `…resolved.v1`. */
export type AlignmentEvent = CreatedEvent<AlignmentEventType>;

/**
 * A finding as the canonical `Alignment` entity (`schemas/entities/alignment.schema.json`):
 * the same fields, as plain mutable data.
 *
 * @param finding - the finding
 * @returns the entity data
 * @example
 * parseAlignment(toAlignmentData(finding)).isOk(); // true
 */
export function toAlignmentData(finding: Finding): Alignment {
  // The same shape (the finding type mirrors the schema; see record.test.ts): a deep copy, so the
  // event shares nothing with the engine's finding and drops its readonly view.
  return structuredClone(finding) as unknown as Alignment;
}

/**
 * Wraps a finding as a canonical CloudEvent, checked against the catalog like every other event.
 * The id is UUIDv5 of type, source, rule, key and revision (the due time), so evaluating or
 * replaying the same log again gives the same id and consumers deduplicate; the partition key is
 * the rule and the key, so a breach and its resolution stay in order.
 *
 * @param finding - the finding
 * @param source - the URI-reference naming this monitor, such as `urn:millwright:alignment:plant-1710`
 * @param traceparent - optional W3C trace context of the evaluation
 * @returns the event, or why the finding does not make a valid one
 * @example
 * for (const f of engine.evaluate(Date.now())) {
 *   const event = toAlignmentEvent(f, "urn:millwright:alignment:plant-1710");
 *   if (event.isOk()) await publish(event.value);
 * }
 */
export function toAlignmentEvent(finding: Finding, source: string, traceparent?: string): Result<AlignmentEvent, EventError> {
  const data = toAlignmentData(finding);
  const common = { source, time: finding.at, data, ...(traceparent === undefined ? {} : { traceparent }) };
  const created =
    finding.kind === "breached"
      ? createEvent({ type: "dev.millwright.alignment.breached.v1", ...common })
      : createEvent({ type: "dev.millwright.alignment.resolved.v1", ...common });
  return created.isErr() ? err(created.error) : created;
}
