import { err, type Result } from "neverthrow";
import { STRUCTURED_CONTENT_TYPE, asIs, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding } from "../binding.js";
import type { CanonicalEvent } from "../envelope.js";
import { attributeError, type EventError } from "../errors.js";
import { parseEvent } from "../parse-event.js";
import { serializeEvent } from "../serialize.js";

/** An AMQP application property value as CloudEvents uses it: a string, a boolean or an int. */
export type AmqpPropertyValue = string | number | boolean;

/** An AMQP 1.0 message as far as CloudEvents is concerned: content-type, application-properties, body. */
export interface AmqpMessage {
  readonly contentType?: string;
  readonly applicationProperties: Readonly<Record<string, AmqpPropertyValue>>;
  readonly body: string | Uint8Array;
}

const PREFIX = "cloudEvents_";
// The AMQP binding's original prefix; receivers accept both, senders use the JMS-safe `_` form.
const LEGACY_PREFIX = "cloudEvents:";

function binary(event: CanonicalEvent): AmqpMessage {
  const applicationProperties: Record<string, AmqpPropertyValue> = {};
  for (const [name, value] of binaryAttributes(event)) applicationProperties[`${PREFIX}${name}`] = value;
  return { contentType: binaryContentType(event), applicationProperties, body: binaryBody(event) };
}

function structured(event: CanonicalEvent): AmqpMessage {
  return { contentType: STRUCTURED_CONTENT_TYPE, applicationProperties: {}, body: serializeEvent(event) };
}

function isEvent(message: AmqpMessage): boolean {
  if (modeOf(message.contentType) !== "binary") return true;
  const p = message.applicationProperties;
  return p[`${PREFIX}specversion`] !== undefined || p[`${LEGACY_PREFIX}specversion`] !== undefined;
}

function toEvent(message: AmqpMessage): Result<CanonicalEvent, EventError> {
  const mode = modeOf(message.contentType);
  if (mode === "structured") return parseEvent(message.body).mapErr((e) => ({ ...e, path: `/body${e.path}` }));
  if (mode !== "binary") {
    return err(attributeError("invalid_message", "/contentType", "names the JSON event format (application/cloudevents+json)", message.contentType));
  }
  const collected = collectPrefixed(message.applicationProperties, [PREFIX, LEGACY_PREFIX], {
    caseInsensitive: false,
    location: "/applicationProperties",
    decode: asIs,
  });
  if (collected.isErr()) return err(collected.error);
  const { attributes } = collected.value;
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", `/applicationProperties/${PREFIX}datacontenttype`, "binary mode carries datacontenttype in content-type only"));
  }
  return fromBinary(attributes, message.contentType, message.body, {
    pathOf: (name) => `/applicationProperties/${PREFIX}${name}`,
    contentType: "/contentType",
    body: "/body",
  });
}

/**
 * The CloudEvents AMQP binding: binary mode puts attributes in application-properties prefixed
 * `cloudEvents_` (and reads the older `cloudEvents:` prefix too), Integer and Boolean extensions
 * as native AMQP values; structured mode sends the JSON format.
 *
 * @example
 * const m = amqp.binary(event);
 * sender.send({ content_type: m.contentType, application_properties: m.applicationProperties, body: m.body });
 */
export const amqp: Binding<AmqpMessage> = Object.freeze({ binary, structured, toEvent, isEvent });
