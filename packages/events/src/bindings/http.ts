import { err, ok, type Result } from "neverthrow";
import { BATCH_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE, binaryAttributes, binaryBody, binaryContentType, collectPrefixed, fromBinary, modeOf, type Binding } from "../binding.js";
import type { CanonicalEvent } from "../envelope.js";
import { attributeError, type EventError } from "../errors.js";
import { parseEvent, parseEventBatch } from "../parse-event.js";
import { decodeHeaderValue, encodeHeaderValue } from "../percent.js";
import { serializeEvent, serializeEventBatch } from "../serialize.js";

/**
 * An HTTP request or response as far as CloudEvents is concerned. Header names are matched
 * case-insensitively; a header given as a list must have exactly one value (Node's
 * `headersDistinct` shape), so a repeated `ce-` header is caught.
 */
export interface HttpMessage {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string | Uint8Array | undefined;
}

/** The HTTP binding: binary, structured and batch modes; toEvent yields one event or a batch. */
export interface HttpBinding extends Binding<HttpMessage, CanonicalEvent | readonly CanonicalEvent[]> {
  /** Writes events in batched content mode (`application/cloudevents-batch+json`); only when the receiver asked for batches. */
  readonly batch: (events: readonly CanonicalEvent[]) => HttpMessage;
}

function binary(event: CanonicalEvent): HttpMessage {
  const headers: Record<string, string> = { "content-type": binaryContentType(event) };
  for (const [name, value] of binaryAttributes(event)) headers[`ce-${name}`] = encodeHeaderValue(String(value));
  return { headers, body: binaryBody(event) };
}

function structured(event: CanonicalEvent): HttpMessage {
  return { headers: { "content-type": STRUCTURED_CONTENT_TYPE }, body: serializeEvent(event) };
}

function batch(events: readonly CanonicalEvent[]): HttpMessage {
  return { headers: { "content-type": BATCH_CONTENT_TYPE }, body: serializeEventBatch(events) };
}

function contentTypeOf(message: HttpMessage): string | undefined {
  for (const name of Object.keys(message.headers)) {
    if (name.toLowerCase() === "content-type") {
      const value = message.headers[name];
      return typeof value === "string" ? value : value?.[0];
    }
  }
  return undefined;
}

function isEvent(message: HttpMessage): boolean {
  const mode = modeOf(contentTypeOf(message));
  if (mode === "structured" || mode === "batch") return true;
  return Object.keys(message.headers).some((name) => name.toLowerCase() === "ce-specversion");
}

function toEvent(message: HttpMessage): Result<CanonicalEvent | readonly CanonicalEvent[], EventError> {
  const collected = collectPrefixed(message.headers, ["ce-"], { caseInsensitive: true, location: "/headers", decode: decodeHeaderValue });
  if (collected.isErr()) return err(collected.error);
  const { attributes, contentType, contentTypeName } = collected.value;
  const mode = modeOf(contentType);
  const body = message.body ?? "";
  if (mode === "other-format") {
    return err(attributeError("invalid_message", `/headers/${contentTypeName}`, "names the JSON event format (application/cloudevents+json)", contentType));
  }
  if (mode === "structured") return prefixBody(parseEvent(body));
  if (mode === "batch") return prefixBody(parseEventBatch(body));
  // HTTP binding §3.1.1: in binary mode Content-Type carries datacontenttype, never a header.
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", "/headers/ce-datacontenttype", "binary mode carries datacontenttype in Content-Type only"));
  }
  return fromBinary(attributes, contentType, message.body, {
    pathOf: (name) => `/headers/ce-${name}`,
    contentType: `/headers/${contentTypeName}`,
    body: "/body",
  });
}

function prefixBody<T>(result: Result<T, EventError>): Result<T, EventError> {
  return result.isOk() ? ok(result.value) : err({ ...result.error, path: `/body${result.error.path}` });
}

/**
 * The CloudEvents HTTP protocol binding. Binary mode percent-encodes header values as §3.1.3.2
 * requires, and decodes them rejecting invalid UTF-8; every mode reads through the one validator.
 *
 * @example
 * const { headers, body } = http.binary(event);
 * await fetch(url, { method: "POST", headers, body });
 * const received = http.toEvent({ headers: req.headersDistinct, body: rawBody });
 */
export const http: HttpBinding = Object.freeze({ binary, structured, batch, toEvent, isEvent });
