import { err, ok, type Result } from "neverthrow";
import { checkProfile, eventCatalog, type ParseOptions } from "@millwright/model";
import { checkAttributes, decodeUtf8, finishEvent, memberPath, structuredData, type CanonicalEvent } from "./envelope.js";
import { attributeError, dataError, type EventError } from "./errors.js";
import { findRepeat, scanError } from "./json-scan.js";

/** What {@link parseEvent} reads: a JS value (a parsed JSON object), JSON text, or UTF-8 bytes of JSON text. */
export type EventInput = unknown;

function unreadable(path: string, rule: string): Result<never, EventError> {
  return err(attributeError("unreadable_input", path, rule));
}

/**
 * Turns text or bytes into a JSON value, then runs the raw-text checks that `JSON.parse` cannot:
 * repeated names at any depth, and attribute numbers that are not Integer literals.
 */
function readJsonText(input: string | Uint8Array, eventDepth: 1 | 2): Result<unknown, EventError> {
  const text = typeof input === "string" ? input : decodeUtf8(input);
  if (text === undefined) return unreadable("", "is UTF-8 text");
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    return unreadable("", `is JSON text (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  const finding = findRepeat(text, value, eventDepth);
  return finding === undefined ? ok(value) : err(scanError(finding, ""));
}

/**
 * Checks a catalog-valid event's data against a plant profile: the profile runs only on what the
 * global contract accepted, so it can reject more events, never accept one more.
 */
function withProfile(event: Result<CanonicalEvent, EventError>, options: ParseOptions | undefined, prefix: string): Result<CanonicalEvent, EventError> {
  const profile = options?.profile;
  if (profile === undefined || event.isErr()) return event;
  const checked = checkProfile(profile, eventCatalog[event.value.type].entity, event.value.data);
  if (checked.isOk()) return event;
  const error = dataError(event.value.type, checked.error);
  return err({ ...error, path: `${prefix}/data`, rule: `${error.rule} under profile ${profile.name}` });
}

/** Checks one structured event object: the one validator, attributes then data. */
function checkStructured(value: unknown, prefix: string): Result<CanonicalEvent, EventError> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return err(attributeError("unreadable_input", prefix, "is a JSON object (a structured CloudEvent)", value));
  }
  try {
    const raw = value as Readonly<Record<string, unknown>>;
    const pathOf = memberPath(prefix);
    const attributes = checkAttributes(raw, { pathOf, binary: false });
    if (attributes.isErr()) return err(attributes.error);
    const data = structuredData(raw, prefix);
    if (data.isErr()) return err(data.error);
    return finishEvent(attributes.value, data.value, pathOf);
  } catch (cause) {
    // Only exotic JS values get here (getters or proxies that throw); JSON data never does.
    return unreadable(prefix, `is plain JSON data (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

/**
 * Reads a structured CloudEvent (JSON format) of a catalog type and checks every CloudEvents 1.0
 * rule and the data against the catalog. Never throws. Text and bytes are also checked for
 * member names repeated in any object (`duplicate_attribute` for the attributes,
 * `duplicate_member` inside the data), which `JSON.parse` alone would hide.
 *
 * With `options.profile` (a plant profile from `loadProfile`), data the catalog accepts is then
 * checked against the profile: an `invalid_data` error whose `cause` lists the profile's issues.
 *
 * @param input - a parsed JSON object, JSON text, or UTF-8 bytes of JSON text
 * @param options - optionally a plant profile
 * @returns the frozen envelope (the data is not copied), or the first rule broken
 * @example
 * const result = parseEvent(body);
 * if (result.isOk() && result.value.type === "dev.millwright.workorder.released.v1") {
 *   console.log(result.value.data.orderId);
 * }
 */
export function parseEvent(input: EventInput, options?: ParseOptions): Result<CanonicalEvent, EventError> {
  if (typeof input === "string" || input instanceof Uint8Array) {
    const value = readJsonText(input, 1);
    return value.isErr() ? err(value.error) : withProfile(checkStructured(value.value, ""), options, "");
  }
  return withProfile(checkStructured(input, ""), options, "");
}

/**
 * Reads a batch of structured CloudEvents (`application/cloudevents-batch+json`: a JSON array,
 * possibly empty), checking each event as {@link parseEvent} does. Never throws.
 *
 * @param input - a parsed JSON array, JSON text, or UTF-8 bytes of JSON text
 * @param options - optionally a plant profile, applied to every event
 * @returns the events in order, or the first rule broken (its path starts with the event's index)
 * @example
 * parseEventBatch("[]"); // ok([])
 */
export function parseEventBatch(input: EventInput, options?: ParseOptions): Result<readonly CanonicalEvent[], EventError> {
  let value = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const read = readJsonText(input, 2);
    if (read.isErr()) return err(read.error);
    value = read.value;
  }
  if (!Array.isArray(value)) return err(attributeError("unreadable_input", "", "is a JSON array (a CloudEvents batch)"));
  const events: CanonicalEvent[] = [];
  for (let i = 0; i < value.length; i++) {
    const event = withProfile(checkStructured(value[i], `/${i}`), options, `/${i}`);
    if (event.isErr()) return err(event.error);
    events.push(event.value);
  }
  return ok(Object.freeze(events));
}
