import { err, ok, type Result } from "neverthrow";
import { STRUCTURED_CONTENT_TYPE, asIs, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding, type BinaryPaths } from "../binding.js";
import { canonicalDataText } from "../canonical-data.js";
import type { CanonicalEvent, DataText } from "../envelope.js";
import { attributeError, type EventError } from "../errors.js";
import { parseEvent } from "../parse-event.js";
import { serializeEvent } from "../serialize.js";

/** An MQTT 5 PUBLISH as far as CloudEvents is concerned (the shape of mqtt.js `packet.properties`). */
export interface Mqtt5Message {
  readonly payload: string | Uint8Array;
  readonly properties: {
    readonly contentType?: string;
    readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
  };
}

/** An MQTT 3.1.1 PUBLISH: a payload only, so events travel in structured mode. */
export interface Mqtt3Message {
  readonly payload: string | Uint8Array;
}

function binary5(event: CanonicalEvent): Mqtt5Message {
  const userProperties: Record<string, string> = {};
  for (const [name, value] of binaryAttributes(event)) userProperties[name] = String(value);
  return { payload: binaryBody(event), properties: { contentType: binaryContentType(event), userProperties } };
}

function structured5(event: CanonicalEvent): Mqtt5Message {
  return { payload: serializeEvent(event), properties: { contentType: STRUCTURED_CONTENT_TYPE } };
}

function isEvent5(message: Mqtt5Message): boolean {
  if (modeOf(message.properties.contentType) !== "binary") return true;
  return message.properties.userProperties?.["specversion"] !== undefined;
}

function toEvent5(message: Mqtt5Message): Result<CanonicalEvent, EventError> {
  return read5(message, undefined);
}

/** Reads an MQTT 5 message; in binary mode, `read` receives the body as read. */
function read5(message: Mqtt5Message, read: { data?: DataText } | undefined): Result<CanonicalEvent, EventError> {
  const contentType = message.properties.contentType;
  const mode = modeOf(contentType);
  if (mode === "structured") return parseEvent(message.payload).mapErr((e) => ({ ...e, path: `/payload${e.path}` }));
  if (mode !== "binary") {
    return err(attributeError("invalid_message", "/properties/contentType", "names the JSON event format (application/cloudevents+json)", contentType));
  }
  // MQTT binding §3.1.4: every user property is an attribute, named as the attribute.
  const collected = collectPrefixed(message.properties.userProperties ?? {}, ALL_NAMES, COLLECT);
  if (collected.isErr()) return err(collected.error);
  const { attributes } = collected.value;
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", "/properties/userProperties/datacontenttype", "binary mode carries datacontenttype in the Content Type property only"));
  }
  return fromBinary(attributes, contentType, message.payload, PATHS, read);
}

// What a binary-mode read passes on every message, made once.
const ALL_NAMES = [""];
const PROVEN = { proven: true };
const none = (): undefined => undefined;
const COLLECT = { caseInsensitive: false, location: "/properties/userProperties", decode: asIs };
const PATHS: BinaryPaths = {
  pathOf: (name) => `/properties/userProperties/${name}`,
  contentType: "/properties/contentType",
  body: "/payload",
};

/**
 * The CloudEvents MQTT 5 binding: binary mode puts attributes in user properties and
 * `datacontenttype` in the Content Type property; structured mode sends the JSON format.
 *
 * @example
 * const { payload, properties } = mqtt5.binary(event);
 * client.publish(`plant/1710/workorder/${event.subject}`, payload, { qos: 1, properties });
 */
export const mqtt5: Binding<Mqtt5Message> = Object.freeze({ binary: binary5, structured: structured5, toEvent: toEvent5, isEvent: isEvent5 });

/** An event read from an MQTT 5 message by {@link parseMqtt5Message}, with the canonical text of its data when the payload gives it. */
export interface Mqtt5Read {
  /** The event, exactly as `mqtt5.toEvent` reads it. */
  readonly event: CanonicalEvent;
  /**
   * The RFC 8785 (JSON Canonicalization Scheme) text of `event.data`, taken from the payload:
   * given when the message is in binary mode and its payload is ASCII and provably
   * `JSON.stringify` of the data (what `mqtt5.binary` sends for data whose numbers are integers
   * from -9 to 99 and whose strings need no escape), with the members of each object put in
   * order. Otherwise undefined: nothing was spent on it, and a caller that needs the text writes
   * it from `event.data`. Written on the first call (later calls return the same text), from
   * `event.data` as read: call it before anything changes the data.
   */
  readonly canonicalData: () => string | undefined;
}

/**
 * Reads an MQTT 5 message as `mqtt5.toEvent` does (the same verdicts and errors for every
 * message), and hands back with the event the RFC 8785 text of its data when the binary-mode
 * payload provably gives it: a consumer that compares data by its canonical form (the revision
 * guard's fingerprint, a SHA-256 of that text) then need not write the data out again.
 *
 * @param message - the PUBLISH payload and properties
 * @returns the event and the canonical text of its data (or undefined), or the first rule broken
 * @example
 * const read = parseMqtt5Message({ payload: packet.payload, properties: packet.properties ?? {} });
 * const text = read.isOk() ? read.value.canonicalData() : undefined;
 * // The revision guard's fingerprint of the data, as fingerprint(read.value.event.data) gives it.
 * const print = text === undefined ? undefined : createHash("sha256").update(text).digest("hex");
 */
export function parseMqtt5Message(message: Mqtt5Message): Result<Mqtt5Read, EventError> {
  const read: { data?: DataText } = {};
  const event = read5(message, read);
  if (event.isErr()) return err(event.error);
  const data = read.data;
  if (data === undefined || !data.stringified) return ok({ event: event.value, canonicalData: none });
  // Written only when asked for: a consumer that compares no data by content spends nothing on it.
  let written: string | undefined | null = null;
  const canonicalData = (): string | undefined => {
    if (written === null) written = canonicalDataText(data.text, data.value, data.bytes === undefined ? PROVEN : { proven: true, bytes: data.bytes });
    return written;
  };
  return ok({ event: event.value, canonicalData });
}

function structured3(event: CanonicalEvent): Mqtt3Message {
  return { payload: serializeEvent(event) };
}

function isEvent3(message: Mqtt3Message): boolean {
  const text = typeof message.payload === "string" ? message.payload.slice(0, 256) : Buffer.from(message.payload.subarray(0, 256)).toString("utf8");
  return /^\s*\{/.test(text) && text.includes('"specversion"');
}

/**
 * The CloudEvents MQTT 3.1.1 binding. MQTT 3.1.1 has no properties, so the binding defines
 * structured mode only; `binary` writes structured mode too.
 *
 * @example
 * client.publish("plant/1710/events", mqtt3.structured(event).payload, { qos: 1 });
 */
export const mqtt3: Binding<Mqtt3Message> = Object.freeze({
  binary: structured3,
  structured: structured3,
  toEvent: (message: Mqtt3Message) => parseEvent(message.payload).mapErr((e) => ({ ...e, path: `/payload${e.path}` })),
  isEvent: isEvent3,
});
