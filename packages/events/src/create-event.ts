import { entityCatalog, eventCatalog, isEventType, parseEventData, type EventDataMap, type EventType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import {
  buildEvent,
  checkAttributes,
  checkCreatedAttributes,
  decodeUtf8,
  deriveAttributes,
  memberPath,
  naturalKeyOf,
  type CanonicalEvent,
  type ExtensionValue,
} from "./envelope.js";
import { attributeError, dataError, type EventError } from "./errors.js";
import { canonicalMemberNames, findRepeat, parsedKeyCount, provablyCanonical, scanError, scanJsonText } from "./json-scan.js";
import { serializeAttributes, serializeEvent } from "./serialize.js";
import { MILLWRIGHT_NAMESPACE, uuidV5 } from "./uuid.js";

/** What {@link createEvent} needs: the fact (type, source, data, time) and optional context. */
export interface CreateEventInput<TType extends EventType> {
  /** A catalog type, such as `dev.millwright.workorder.released.v1`. */
  readonly type: TType;
  /** A URI-reference naming the producer, such as `urn:millwright:sap:S4PCLNT100`. */
  readonly source: string;
  /** The entity as it stands after the fact; checked with the catalog. */
  readonly data: EventDataMap[TType];
  /** When the fact happened, RFC 3339 with an offset; kept exactly as given. */
  readonly time: string;
  /** The revision of the fact; defaults to `data.revision` and must equal it when given. */
  readonly revision?: string;
  /** Overrides the catalog subject (the data's business key). */
  readonly subject?: string;
  /** W3C trace context of the operation that produced the fact. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** An explicit id, when the caller has its own; by default the id is derived from the fact. */
  readonly id?: string;
  /** Further extension attributes (names `^[a-z0-9]+$`; Boolean, Integer or String values). */
  readonly extensions?: Readonly<Record<string, ExtensionValue>>;
}

/** An event made by {@link createEvent}: every attribute Millwright derives is present. */
export type CreatedEvent<TType extends EventType = EventType> = CanonicalEvent<TType> & {
  readonly time: string;
  readonly subject: string;
  readonly datacontenttype: "application/json";
  readonly dataschema: string;
  readonly partitionkey: string;
  readonly sequence: string;
};

const NUL = "\u0000";
const CORE = new Set(["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "partitionkey", "sequence", "traceparent", "tracestate"]);
const topLevel = memberPath("");
const createPath = (name: string): string => (CORE.has(name) ? topLevel(name) : `/extensions${topLevel(name)}`);

/**
 * The deterministic id of a fact: UUIDv5 in {@link MILLWRIGHT_NAMESPACE} over the UTF-8 of
 * type, source, the natural key values of the entity and the revision, joined with U+0000
 * (which none of them may contain, so different facts never share a name).
 *
 * @param type - the event type
 * @param source - the event source
 * @param naturalKey - the values of the entity's natural key, in catalog order
 * @param revision - the revision of the fact
 * @returns the event id
 * @example
 * deriveEventId("dev.millwright.workorder.released.v1", "urn:millwright:sap:S4PCLNT100", ["1000123"], "20260301061530");
 */
export function deriveEventId(type: string, source: string, naturalKey: readonly string[], revision: string): string {
  return uuidV5(MILLWRIGHT_NAMESPACE, [type, source, ...naturalKey, revision].join(NUL));
}

/**
 * Builds the canonical event of a fact: checks the data with the catalog, derives `id` (UUIDv5
 * of the fact), `subject`, `partitionkey`, `sequence` and `dataschema`, and checks every
 * attribute with the same validator `parseEvent` uses. Reads no clock and no random source:
 * the same input always gives the same event. Never throws. The data is not copied.
 *
 * @param input - type, source, data, time and optional revision, subject, trace context, id, extensions
 * @returns the frozen event, or the first rule broken
 * @example
 * const event = createEvent({
 *   type: "dev.millwright.workorder.released.v1",
 *   source: "urn:millwright:sap:S4PCLNT100",
 *   data: order,
 *   time: "2026-03-01T06:15:30+01:00",
 * });
 */
export function createEvent<TType extends EventType>(input: CreateEventInput<TType>): Result<CreatedEvent<TType>, EventError> {
  try {
    const { type, data } = input;
    if (typeof type !== "string" || !isEventType(type)) {
      return err(attributeError("unknown_event_type", "/type", "names a type in the Millwright event catalog", type));
    }
    if (input.time === undefined) return err(attributeError("missing_attribute", "/time", "time is required: the time of the fact, RFC 3339"));
    return createChecked(input, data);
  } catch (cause) {
    return err(unreadableInput(cause));
  }
}

const unreadableInput = (cause: unknown): EventError =>
  attributeError("unreadable_input", "", `is plain data (${cause instanceof Error ? cause.message : String(cause)})`);

/** {@link createEvent} once the type is a catalog type and a time is given. */
function createChecked<TType extends EventType>(input: Omit<CreateEventInput<TType>, "data">, data: unknown): Result<CreatedEvent<TType>, EventError> {
  const type = input.type;
  const parsed = parseEventData(type, data);
  if (parsed.isErr()) return err(dataError(type, parsed.error));
  const derived = deriveAttributes(type, data);
  if (input.revision !== undefined && input.revision !== derived.revision) {
    return err(attributeError("inconsistent_attribute", "/revision", `equals the data's revision ${derived.revision}`, input.revision));
  }
  const naturalKey = naturalKeyOf(data, entityCatalog[eventCatalog[type].entity].naturalKey);
  const id = input.id ?? deriveEventId(type, String(input.source), naturalKey, derived.revision);
  const subject = input.subject ?? derived.subject;
  if (input.extensions === undefined) {
    // The common case: only what the caller or the data gave is checked (see checkCreatedAttributes).
    const checked = checkCreatedAttributes({
      id: input.id,
      derivedId: id,
      source: input.source,
      type,
      subject,
      time: input.time,
      derived,
      traceparent: input.traceparent,
      tracestate: input.tracestate,
    });
    if (checked !== undefined) return ok(buildEvent(checked, data) as CreatedEvent<TType>);
  }
  const raw: Record<string, unknown> = {
    specversion: "1.0",
    id,
    source: input.source,
    type,
    subject,
    time: input.time,
    datacontenttype: "application/json",
    dataschema: derived.dataschema,
    partitionkey: derived.partitionkey,
    sequence: derived.sequence,
    traceparent: input.traceparent,
    tracestate: input.tracestate,
  };
  if (input.extensions !== undefined) {
    for (const name of Object.keys(input.extensions)) {
      if (Object.prototype.hasOwnProperty.call(raw, name) || name === "data") {
        return err(attributeError("invalid_attribute_name", `/extensions/${name}`, "an extension does not reuse the name of a core or Millwright attribute", name));
      }
      raw[name] = input.extensions[name];
    }
  }
  const attributes = checkAttributes(raw, { pathOf: createPath, binary: true });
  if (attributes.isErr()) return err(attributes.error);
  return ok(buildEvent(attributes.value, data) as CreatedEvent<TType>);
}

/** What {@link ingestEvent} needs: as for {@link createEvent}, with the data as JSON text or its UTF-8 bytes. */
export interface IngestEventInput<TType extends EventType> extends Omit<CreateEventInput<TType>, "data"> {
  /** The entity as it stands after the fact, as JSON text (or UTF-8 bytes of JSON text). */
  readonly data: string | Uint8Array;
}

/** What {@link ingestEvent} returns: the event and its text in the CloudEvents JSON format. */
export interface IngestedEvent<TType extends EventType = EventType> {
  /** The event, as {@link createEvent} would have made it from the parsed data. */
  readonly event: CreatedEvent<TType>;
  /** Exactly `serializeEvent(event)`. */
  readonly text: string;
}

/**
 * Turns the text of a fact into its canonical event and that event's text: parses the data,
 * refuses member names repeated in any object of it (`duplicate_member`, as {@link parseEvent}
 * does), then does what {@link createEvent} does and writes the event as {@link serializeEvent}
 * does. The text is byte for byte `serializeEvent(event)`; when the data text is already written
 * the way `JSON.stringify` writes it (no white space, no needless escapes, numbers as JavaScript
 * writes them), it is copied into the event text instead of being written again from the parsed
 * data. Never throws.
 *
 * @param input - type, source, data text, time and optional revision, subject, trace context, id, extensions
 * @returns the frozen event and its text, or the first rule broken (data errors have paths under `/data`)
 * @example
 * const ingested = ingestEvent({
 *   type: "dev.millwright.workorder.released.v1",
 *   source: "urn:millwright:sap:S4PCLNT100",
 *   data: '{"orderId":"1000123",…}',
 *   time: "2026-03-01T06:15:30+01:00",
 * });
 * if (ingested.isOk()) await producer.send(ingested.value.text);
 */
export function ingestEvent<TType extends EventType>(input: IngestEventInput<TType>): Result<IngestedEvent<TType>, EventError> {
  try {
    const type = input.type;
    if (typeof type !== "string" || !isEventType(type)) {
      return err(attributeError("unknown_event_type", "/type", "names a type in the Millwright event catalog", type));
    }
    if (input.time === undefined) return err(attributeError("missing_attribute", "/time", "time is required: the time of the fact, RFC 3339"));
    const body = input.data;
    const text = typeof body === "string" ? body : body instanceof Uint8Array ? decodeUtf8(body) : undefined;
    if (text === undefined) return err(attributeError("unreadable_input", "/data", typeof body === "string" || body instanceof Uint8Array ? "is UTF-8 text" : "is JSON text or its UTF-8 bytes"));
    let data: unknown;
    try {
      data = JSON.parse(text) as unknown;
    } catch (cause) {
      return err(attributeError("unreadable_input", "/data", `is JSON text (${cause instanceof Error ? cause.message : String(cause)})`));
    }
    // One pass over the text: its member names (for the repeat check) and whether it is canonical.
    // The text is proven canonical (and free of repeats) by its length when it can be (see
    // provablyCanonical); otherwise one pass over it gives its member names and whether it is canonical.
    const plain = plainSerialization();
    const proven = plain && provablyCanonical(text, data);
    const names = proven ? 0 : plain ? canonicalMemberNames(text) : -1;
    const canonical = proven || names >= 0;
    if (!proven && (!canonical || names !== parsedKeyCount(data))) {
      const finding = canonical ? scanJsonText(text, 0) : findRepeat(text, data, 0);
      if (finding !== undefined) return err(scanError(finding, "/data"));
    }
    const created = createChecked(input, data);
    if (created.isErr()) return err(created.error);
    const event = created.value;
    const eventText = canonical ? `${serializeAttributes(event)},"data":${text}}` : serializeEvent(event);
    return ok({ event, text: eventText });
  } catch (cause) {
    return err(unreadableInput(cause));
  }
}

/** Whether `JSON.stringify` writes parsed JSON as plain data (nothing inherited defines `toJSON`). */
function plainSerialization(): boolean {
  return !("toJSON" in Object.prototype) && !("toJSON" in Array.prototype);
}
