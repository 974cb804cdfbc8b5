import { err, ok, type Result } from "neverthrow";
import { checkAttributes, finishEvent, readDataText, decodeUtf8, type CanonicalEvent, type DataText } from "./envelope.js";
import { attributeError, type EventError } from "./errors.js";
import { eventAttributes } from "./serialize.js";
import { isJsonMediaType } from "./syntax.js";

/**
 * A transport binding: turns canonical events into messages of one transport and back, in the
 * shape of the cloudevents SDK's `Binding` (binary, structured, toEvent, isEvent), but with
 * `toEvent` returning a `Result` from the same validator as `parseEvent`.
 *
 * @typeParam TMessage - the transport's message shape
 * @typeParam TResult - what `toEvent` yields (an event, or for HTTP also a batch)
 */
export interface Binding<TMessage, TResult = CanonicalEvent> {
  /** Writes an event in binary content mode: attributes in transport metadata, data as the body. */
  readonly binary: (event: CanonicalEvent) => TMessage;
  /** Writes an event in structured content mode: the JSON format as the body. */
  readonly structured: (event: CanonicalEvent) => TMessage;
  /** Reads a message in any mode the binding supports; never throws. */
  readonly toEvent: (message: TMessage) => Result<TResult, EventError>;
  /** Tells, from the metadata alone, whether a message claims to carry a CloudEvent. */
  readonly isEvent: (message: TMessage) => boolean;
}

/** The media type of the structured JSON format. */
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";
/** The media type of the JSON batch format. */
export const BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8";

/** How a content type selects the mode (HTTP binding §3): compared case-insensitively. */
export function modeOf(contentType: string | undefined): "structured" | "batch" | "binary" | "other-format" {
  const lower = contentType?.trim().toLowerCase() ?? "";
  if (lower.startsWith("application/cloudevents-batch")) return lower.startsWith("application/cloudevents-batch+json") ? "batch" : "other-format";
  if (lower.startsWith("application/cloudevents")) return lower.startsWith("application/cloudevents+json") ? "structured" : "other-format";
  return "binary";
}

/** The body of a binary-mode message: the data as JSON text. */
export function binaryBody(event: CanonicalEvent): string {
  return JSON.stringify(event.data);
}

/** The content type of a binary-mode message. */
export function binaryContentType(event: CanonicalEvent): string {
  return event.datacontenttype ?? "application/json";
}

/** The attributes of a binary-mode message: all but `datacontenttype`, which travels as the content type. */
export function binaryAttributes(event: CanonicalEvent): [string, string | number | boolean][] {
  return eventAttributes(event).filter(([name]) => name !== "datacontenttype");
}

/** Where each part of a binary message sits, for error paths. */
export interface BinaryPaths {
  readonly pathOf: (name: string) => string;
  readonly contentType: string;
  readonly body: string;
}

/**
 * Reads a binary-mode message once its binding has collected the attributes: the one validator
 * (attributes, then the body as JSON data against the catalog).
 */
export function fromBinary(
  attributes: Record<string, unknown>,
  contentType: string | undefined,
  body: string | Uint8Array | null | undefined,
  paths: BinaryPaths,
  read?: { data?: DataText },
): Result<CanonicalEvent, EventError> {
  try {
    if (contentType !== undefined) attributes["datacontenttype"] = contentType;
    const pathOf = (name: string): string => (name === "datacontenttype" ? paths.contentType : paths.pathOf(name));
    const checked = checkAttributes(attributes, { pathOf, binary: true });
    if (checked.isErr()) return err(checked.error);
    if (contentType === undefined || !isJsonMediaType(contentType)) {
      return err(attributeError("unsupported_content_type", paths.contentType, "the data of a catalog event is JSON and says so in the content type", contentType));
    }
    if (body === undefined || body === null || body.length === 0) return err(attributeError("missing_attribute", paths.body, "catalog events carry data"));
    const data = readDataText(body, paths.body);
    if (data.isErr()) return err(data.error);
    // The body as read, for a caller that takes more from it (the data's canonical text).
    if (read !== undefined) read.data = data.value;
    return finishEvent(checked.value, data.value.value, (name) => (name === "data" ? paths.body : pathOf(name)));
  } catch (cause) {
    return err(attributeError("unreadable_input", "", `is a readable message (${cause instanceof Error ? cause.message : String(cause)})`));
  }
}

/** A header value as transports give it: text, bytes, or a list when the header repeats. */
export type HeaderValue = string | Uint8Array | readonly (string | Uint8Array)[] | undefined;

/**
 * Collects the attributes carried in prefixed headers (`ce-`, `ce_`, `cloudEvents_` …), rejecting
 * a header that occurs twice, under any spelling of its name when names are case-insensitive.
 */
export function collectPrefixed(
  headers: Readonly<Record<string, unknown>>,
  prefixes: readonly string[],
  options: { readonly caseInsensitive: boolean; readonly location: string; readonly decode: (value: string) => string | undefined },
): Result<{ attributes: Record<string, unknown>; contentType: string | undefined; contentTypeName: string }, EventError> {
  const attributes: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const origin: Record<string, string> = Object.create(null) as Record<string, string>;
  let contentType: string | undefined;
  let contentTypeName = "content-type";
  const { caseInsensitive, location, decode } = options;
  // Prefixes as compared: lower case when names are case-insensitive (made once, not per header).
  const compared = caseInsensitive ? prefixes.map((p) => p.toLowerCase()) : prefixes;
  // The pointer of a header is built only for an error: a valid message needs none.
  const pathOf = (rawName: string): string => `${location}/${rawName.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  for (const rawName of Object.keys(headers)) {
    const value = headers[rawName];
    if (value === undefined || value === null) continue;
    const name = caseInsensitive ? rawName.toLowerCase() : rawName;
    const single = readHeaderValue(value);
    if (single === REPEATED) return err(attributeError("duplicate_attribute", pathOf(rawName), "each attribute occurs at most once"));
    if (name === "content-type") {
      if (typeof single !== "string") return err(attributeError("invalid_message", pathOf(rawName), "is UTF-8 text"));
      if (contentType !== undefined) return err(attributeError("duplicate_attribute", pathOf(rawName), "the content type occurs at most once"));
      contentType = single;
      contentTypeName = rawName;
      continue;
    }
    let prefix: string | undefined;
    for (let i = 0; i < compared.length; i++) {
      const p = compared[i] as string;
      if (name.startsWith(p)) {
        prefix = p;
        break;
      }
    }
    if (prefix === undefined) continue;
    const attribute = prefix.length === 0 ? name : name.slice(prefix.length);
    if (single === undefined) return err(attributeError("invalid_message", pathOf(rawName), "is UTF-8 text"));
    if (Object.prototype.hasOwnProperty.call(origin, attribute)) {
      return err(attributeError("duplicate_attribute", pathOf(rawName), `each attribute occurs at most once (also in ${origin[attribute]})`));
    }
    if (typeof single !== "string") {
      attributes[attribute] = single;
    } else {
      const decoded = decode(single);
      if (decoded === undefined) {
        return err(attributeError("invalid_message", pathOf(rawName), "is percent-encoded UTF-8 (HTTP binding §3.1.3.2)", single));
      }
      attributes[attribute] = decoded;
    }
    origin[attribute] = rawName;
  }
  return ok({ attributes, contentType, contentTypeName });
}

const REPEATED = Symbol("repeated");

function readHeaderValue(value: unknown): string | number | boolean | undefined | typeof REPEATED {
  if (Array.isArray(value)) {
    if (value.length !== 1) return REPEATED;
    return readHeaderValue(value[0]);
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return decodeUtf8(value);
  return undefined;
}

/** The identity decoding, for transports whose header values are plain UTF-8 strings. */
export function asIs(value: string): string {
  return value;
}
