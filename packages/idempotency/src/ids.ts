import { uuidV5 } from "@millwright/events";

/**
 * The namespace of Millwright record ids (inbox, dead-letter and outbox records): UUIDv5 of
 * "https://schemas.millwright.dev/v1/records" in the RFC 9562 URL namespace. Fixed forever:
 * changing it would change the key of every stored record.
 */
export const RECORD_NAMESPACE = "6d19c728-e796-56b7-abfb-78e58c45e5e5";

/** The kinds of record whose ids are derived here. */
export type RecordKind = "inbox" | "dead-letter" | "dead-letter-raw" | "outbox";

const NUL = "\u0000";

/**
 * Derives the id of a stored record: UUIDv5 in {@link RECORD_NAMESPACE} over the record kind
 * and its parts joined with U+0000, so the same parts always name the same record and
 * different parts never collide by concatenation.
 *
 * @param kind - what the record is
 * @param parts - the values that identify it, such as an event's source and id
 * @returns the record id, a lower-case UUID
 * @example
 * recordId("inbox", ["urn:millwright:sap:S4PCLNT100", "2f1c…"]); // "…-5…-…"
 */
export function recordId(kind: RecordKind, parts: readonly string[]): string {
  return uuidV5(RECORD_NAMESPACE, [kind, ...parts].join(NUL));
}

/**
 * The inbox key of an event: one per (source, id), the pair CloudEvents makes unique.
 *
 * @param source - the event's `source`
 * @param id - the event's `id`
 * @returns the record id of the inbox entry
 * @example
 * inboxKey(event.source, event.id);
 */
export function inboxKey(source: string, id: string): string {
  return recordId("inbox", [source, id]);
}
