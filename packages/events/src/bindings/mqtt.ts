import { err, type Result } from "neverthrow";
import { STRUCTURED_CONTENT_TYPE, asIs, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding } from "../binding.js";
import type { CanonicalEvent } from "../envelope.js";
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
  const contentType = message.properties.contentType;
  const mode = modeOf(contentType);
  if (mode === "structured") return parseEvent(message.payload).mapErr((e) => ({ ...e, path: `/payload${e.path}` }));
  if (mode !== "binary") {
    return err(attributeError("invalid_message", "/properties/contentType", "names the JSON event format (application/cloudevents+json)", contentType));
  }
  // MQTT binding §3.1.4: every user property is an attribute, named as the attribute.
  const collected = collectPrefixed(message.properties.userProperties ?? {}, [""], {
    caseInsensitive: false,
    location: "/properties/userProperties",
    decode: asIs,
  });
  if (collected.isErr()) return err(collected.error);
  const { attributes } = collected.value;
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", "/properties/userProperties/datacontenttype", "binary mode carries datacontenttype in the Content Type property only"));
  }
  return fromBinary(attributes, contentType, message.payload, {
    pathOf: (name) => `/properties/userProperties/${name}`,
    contentType: "/properties/contentType",
    body: "/payload",
  });
}

/**
 * The CloudEvents MQTT 5 binding: binary mode puts attributes in user properties and
 * `datacontenttype` in the Content Type property; structured mode sends the JSON format.
 *
 * @example
 * const { payload, properties } = mqtt5.binary(event);
 * client.publish(`plant/1710/workorder/${event.subject}`, payload, { qos: 1, properties });
 */
export const mqtt5: Binding<Mqtt5Message> = Object.freeze({ binary: binary5, structured: structured5, toEvent: toEvent5, isEvent: isEvent5 });

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
