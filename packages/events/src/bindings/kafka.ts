import { err, type Result } from "neverthrow";
import { STRUCTURED_CONTENT_TYPE, asIs, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding, type HeaderValue } from "../binding.js";
import type { CanonicalEvent } from "../envelope.js";
import { attributeError, type EventError } from "../errors.js";
import { parseEvent } from "../parse-event.js";
import { serializeEvent } from "../serialize.js";

/**
 * A Kafka record as far as CloudEvents is concerned (the shape kafkajs and node-rdkafka use):
 * header values are UTF-8 strings or bytes; a repeated header is a list.
 */
export interface KafkaMessage {
  readonly key: string | Uint8Array | null;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  readonly value: string | Uint8Array | null;
}

function binary(event: CanonicalEvent): KafkaMessage {
  const headers: Record<string, string> = { "content-type": binaryContentType(event) };
  for (const [name, value] of binaryAttributes(event)) headers[`ce_${name}`] = String(value);
  return { key: event.partitionkey ?? null, headers, value: binaryBody(event) };
}

function structured(event: CanonicalEvent): KafkaMessage {
  return { key: event.partitionkey ?? null, headers: { "content-type": STRUCTURED_CONTENT_TYPE }, value: serializeEvent(event) };
}

function headerText(value: HeaderValue): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" ? first : first instanceof Uint8Array ? Buffer.from(first).toString("utf8") : undefined;
}

function isEvent(message: KafkaMessage): boolean {
  if (modeOf(headerText(message.headers["content-type"])) !== "binary") return true;
  return message.headers["ce_specversion"] !== undefined;
}

function toEvent(message: KafkaMessage): Result<CanonicalEvent, EventError> {
  const collected = collectPrefixed(message.headers, ["ce_"], { caseInsensitive: false, location: "/headers", decode: asIs });
  if (collected.isErr()) return err(collected.error);
  const { attributes, contentType, contentTypeName } = collected.value;
  const mode = modeOf(contentType);
  if (mode === "structured") {
    const result = parseEvent(message.value ?? "");
    return result.mapErr((e) => ({ ...e, path: `/value${e.path}` }));
  }
  if (mode !== "binary") {
    return err(attributeError("invalid_message", `/headers/${contentTypeName}`, "names the JSON event format (application/cloudevents+json)", contentType));
  }
  // The Kafka binding maps datacontenttype to content-type; a ce_datacontenttype header that
  // disagrees is a contradiction, not a second value.
  const extra = attributes["datacontenttype"];
  if (extra !== undefined) {
    if (extra !== contentType) {
      return err(attributeError("invalid_message", "/headers/ce_datacontenttype", "equals the content-type header when both are present", extra));
    }
    delete attributes["datacontenttype"];
  }
  return fromBinary(attributes, contentType, message.value, {
    pathOf: (name) => `/headers/ce_${name}`,
    contentType: `/headers/${contentTypeName}`,
    body: "/value",
  });
}

/**
 * The CloudEvents Kafka protocol binding: `ce_` headers in binary mode, the JSON format in
 * structured mode, and the record key set to `partitionkey` in both, so that one entity's events
 * stay on one partition. The key is not read back: `partitionkey` travels as an attribute.
 *
 * @example
 * const record = kafka.binary(event);
 * await producer.send({ topic: "millwright.events", messages: [record] });
 */
export const kafka: Binding<KafkaMessage> = Object.freeze({ binary, structured, toEvent, isEvent });
