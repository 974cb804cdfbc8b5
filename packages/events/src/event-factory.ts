import { entityCatalog, eventCatalog, isEventType, parseEventData, type EventDataMap, type EventType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import { createEvent, deriveEventId, type CreatedEvent } from "./create-event.js";
import { checkAttributes, deriveAttributes, memberPath, naturalKeyOf } from "./envelope.js";
import { attributeError, dataError, type EventError } from "./errors.js";
import { forbiddenCharacterAt, isTimestamp } from "./syntax.js";

/** What {@link createEventFactory} fixes for every event it makes. */
export interface EventFactoryOptions {
  /** A URI-reference naming the producer, such as `urn:millwright:opcua:line1`; checked once. */
  readonly source: string;
}

/** Makes the events of one type and source; see {@link createEventFactory}. */
export interface EventFactory<TType extends EventType> {
  /** The catalog type of every event made. */
  readonly type: TType;
  /** The source of every event made. */
  readonly source: string;
  /**
   * Makes the event of one fact, exactly as `createEvent({ type, source, data, time })` would:
   * the data is checked with the catalog, the id derived from the fact, the time checked.
   *
   * @param data - the entity as it stands after the fact
   * @param time - when the fact happened, RFC 3339 with an offset
   * @returns the frozen event, or the first rule broken (the same error `createEvent` gives)
   */
  readonly create: (data: EventDataMap[TType], time: string) => Result<CreatedEvent<TType>, EventError>;
}

const topLevel = memberPath("");

/** A String attribute a catalog event may carry: non-empty, without forbidden characters. */
const isPlainString = (value: string): boolean => value.length > 0 && forbiddenCharacterAt(value) === -1;

/**
 * Prepares the making of many events of one type from one source, such as an adapter's
 * production counts: the type and the source are checked once, here, with the rules `createEvent`
 * applies to them; each `create(data, time)` then checks only what differs per event (the data
 * with the catalog, the time, and the subject and partition key the data gives), and derives the
 * id and the other attributes as `createEvent` does. The events are identical to those of
 * `createEvent({ type, source, data, time })`, and so are the errors. Nothing is skipped that
 * could be wrong: the factory only avoids re-checking attributes it has built itself.
 *
 * @param type - a catalog type, such as `dev.millwright.productioncount.counted.v1`
 * @param options - the source of every event
 * @returns the factory, or the rule the type or the source breaks
 * @example
 * ```ts
 * const counts = createEventFactory("dev.millwright.productioncount.counted.v1", { source: "urn:millwright:opcua:line1" });
 * if (counts.isOk()) {
 *   const event = counts.value.create(count, count.windowEnd);
 * }
 * ```
 */
export function createEventFactory<TType extends EventType>(type: TType, options: EventFactoryOptions): Result<EventFactory<TType>, EventError> {
  if (typeof type !== "string" || !isEventType(type)) {
    return err(attributeError("unknown_event_type", "/type", "names a type in the Millwright event catalog", type));
  }
  const source: unknown = options.source;
  // The source with the envelope validator's own rules (and errors); the other three are constants.
  const checked = checkAttributes({ specversion: "1.0", id: "-", source, type }, { pathOf: topLevel, binary: true });
  if (checked.isErr()) return err(checked.error);
  const naturalKey = entityCatalog[eventCatalog[type].entity].naturalKey;
  const fixedSource = source as string;
  /** The last time accepted: the events of one batch mostly share it. */
  let acceptedTime: string | undefined;
  /** Anything the fast path does not accept goes through `createEvent`, which names the rule broken. */
  const full = (data: EventDataMap[TType], time: string): Result<CreatedEvent<TType>, EventError> => createEvent({ type, source: fixedSource, data, time });
  const create = (data: EventDataMap[TType], time: string): Result<CreatedEvent<TType>, EventError> => {
    try {
      if (time !== acceptedTime) {
        if (typeof time !== "string" || !isPlainString(time) || !isTimestamp(time)) return full(data, time);
        acceptedTime = time;
      }
      const parsed = parseEventData(type, data);
      if (parsed.isErr()) return err(dataError(type, parsed.error));
      const derived = deriveAttributes(type, data);
      if (!isPlainString(derived.subject) || !isPlainString(derived.partitionkey) || derived.sequence.length === 0) return full(data, time);
      const id = deriveEventId(type, fixedSource, naturalKeyOf(data, naturalKey), derived.revision);
      // The members in the canonical order, as buildEvent writes them.
      const event = {
        specversion: "1.0",
        id,
        source: fixedSource,
        type,
        subject: derived.subject,
        time,
        datacontenttype: "application/json",
        dataschema: derived.dataschema,
        partitionkey: derived.partitionkey,
        sequence: derived.sequence,
        data,
      };
      return ok(Object.freeze(event) as unknown as CreatedEvent<TType>);
    } catch {
      // A data object that throws when read: createEvent reports it as unreadable_input.
      return full(data, time);
    }
  };
  return ok(Object.freeze({ type, source: fixedSource, create }));
}
