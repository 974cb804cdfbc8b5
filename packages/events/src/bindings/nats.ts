import { err, type Result } from "neverthrow";
import { STRUCTURED_CONTENT_TYPE, asIs, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding } from "../binding.js";
import type { CanonicalEvent } from "../envelope.js";
import { attributeError, type EventError } from "../errors.js";
import { parseEvent } from "../parse-event.js";
import { serializeEvent } from "../serialize.js";

/** A NATS message as far as CloudEvents is concerned: headers (NATS 2.2+) and data. */
export interface NatsMessage {
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly data: string | Uint8Array;
}

function binary(event: CanonicalEvent): NatsMessage {
  const headers: Record<string, string> = { "content-type": binaryContentType(event) };
  for (const [name, value] of binaryAttributes(event)) headers[`ce-${name}`] = String(value);
  return { headers, data: binaryBody(event) };
}

function structured(event: CanonicalEvent): NatsMessage {
  return { headers: { "content-type": STRUCTURED_CONTENT_TYPE }, data: serializeEvent(event) };
}

function header(message: NatsMessage, wanted: string): string | undefined {
  for (const name of Object.keys(message.headers ?? {})) {
    if (name.toLowerCase() === wanted) {
      const value = message.headers?.[name];
      return typeof value === "string" ? value : value?.[0];
    }
  }
  return undefined;
}

function isEvent(message: NatsMessage): boolean {
  return modeOf(header(message, "content-type")) !== "binary" || header(message, "ce-specversion") !== undefined;
}

function toEvent(message: NatsMessage): Result<CanonicalEvent, EventError> {
  const collected = collectPrefixed(message.headers ?? {}, ["ce-"], { caseInsensitive: true, location: "/headers", decode: asIs });
  if (collected.isErr()) return err(collected.error);
  const { attributes, contentType, contentTypeName } = collected.value;
  const mode = modeOf(contentType);
  // Without headers (or without ce- headers) the data is a structured event (NATS binding §3.2).
  if (mode === "structured" || (mode === "binary" && attributes["specversion"] === undefined)) {
    return parseEvent(message.data).mapErr((e) => ({ ...e, path: `/data${e.path}` }));
  }
  if (mode !== "binary") {
    return err(attributeError("invalid_message", `/headers/${contentTypeName}`, "names the JSON event format (application/cloudevents+json)", contentType));
  }
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", "/headers/ce-datacontenttype", "binary mode carries datacontenttype in content-type only"));
  }
  return fromBinary(attributes, contentType, message.data, {
    pathOf: (name) => `/headers/ce-${name}`,
    contentType: `/headers/${contentTypeName}`,
    body: "/data",
  });
}

/**
 * The CloudEvents NATS binding: binary mode in `ce-` headers with `content-type`; structured
 * mode (also without headers, for servers before 2.2) sends the JSON format.
 *
 * @example
 * const m = nats.binary(event);
 * const h = headers(); for (const [k, v] of Object.entries(m.headers ?? {})) h.set(k, String(v));
 * nc.publish("millwright.events", m.data, { headers: h });
 */
export const nats: Binding<NatsMessage> = Object.freeze({ binary, structured, toEvent, isEvent });
