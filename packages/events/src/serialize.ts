import type { CanonicalEvent } from "./envelope.js";

const ORDER = [
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "partitionkey",
  "sequence",
  "traceparent",
  "tracestate",
] as const;

/**
 * Lists the attributes of an event (all but the data) in the canonical order: core attributes,
 * Millwright's extensions, then other extensions. Bindings use it for headers and properties.
 *
 * @param event - a canonical event
 * @returns name and value pairs; absent attributes are left out
 * @example
 * for (const [name, value] of eventAttributes(event)) headers[`ce-${name}`] = String(value);
 */
export function eventAttributes(event: CanonicalEvent): [name: string, value: string | number | boolean][] {
  const out: [string, string | number | boolean][] = [];
  const record = event as unknown as Record<string, string | undefined>;
  for (const name of ORDER) {
    const value = record[name];
    if (value !== undefined) out.push([name, value]);
  }
  if (event.extensions !== undefined) for (const [name, value] of Object.entries(event.extensions)) out.push([name, value]);
  return out;
}

/**
 * Writes an event in the CloudEvents JSON format (`application/cloudevents+json`), attributes in
 * the canonical order and `data` last. The output is byte-for-byte stable: parsing it and writing
 * it again gives the same text.
 *
 * @param event - a canonical event
 * @returns the JSON text
 * @example
 * const body = serializeEvent(event); // '{"specversion":"1.0","id":"…",…,"data":{…}}'
 */
export function serializeEvent(event: CanonicalEvent): string {
  return `${serializeAttributes(event)},"data":${JSON.stringify(event.data)}}`;
}

/**
 * The text of {@link serializeEvent} up to, not including, `,"data":…}`: what an ingest writes
 * around data text it has checked to be canonical.
 *
 * @param event - a canonical event
 * @returns the opening brace and the attributes
 * @example
 * const body = `${serializeAttributes(event)},"data":${JSON.stringify(event.data)}}`; // === serializeEvent(event)
 */
export function serializeAttributes(event: CanonicalEvent): string {
  const e = event as unknown as Record<string, unknown>;
  const { id, source, type, subject, time, datacontenttype, dataschema, partitionkey, sequence } = e;
  if (
    typeof id === "string" &&
    typeof source === "string" &&
    typeof type === "string" &&
    typeof subject === "string" &&
    typeof time === "string" &&
    typeof datacontenttype === "string" &&
    typeof dataschema === "string" &&
    typeof partitionkey === "string" &&
    typeof sequence === "string" &&
    e["traceparent"] === undefined &&
    e["tracestate"] === undefined &&
    event.extensions === undefined &&
    // One test over all the values instead of one per value: none needs an escape.
    !NEEDS_ESCAPE.test(id + source + type + subject + time + datacontenttype + dataschema + partitionkey + sequence)
  ) {
    return `{"specversion":"1.0","id":"${id}","source":"${source}","type":"${type}","subject":"${subject}","time":"${time}","datacontenttype":"${datacontenttype}","dataschema":"${dataschema}","partitionkey":"${partitionkey}","sequence":"${sequence}"`;
  }
  let text = `{"specversion":"1.0","id":${quote(event.id)},"source":${quote(event.source)},"type":${quote(event.type)}`;
  for (let i = 4; i < ORDER.length; i++) {
    const name = ORDER[i] as string;
    const value = e[name];
    if (value !== undefined) text += `,"${name}":${quote(value)}`;
  }
  if (event.extensions !== undefined) {
    for (const name of Object.keys(event.extensions)) text += `,"${name}":${JSON.stringify(event.extensions[name])}`;
  }
  return text;
}

// What JSON.stringify escapes in a string: quote, backslash, control characters and (lone) surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(value)`, without its cost for the common string that needs no escape (the text is the same). */
function quote(value: unknown): string | undefined {
  return typeof value === "string" && !NEEDS_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * Writes events as a CloudEvents JSON batch (`application/cloudevents-batch+json`).
 *
 * @param events - canonical events, possibly none
 * @returns the JSON array text
 * @example
 * serializeEventBatch([]); // "[]"
 */
export function serializeEventBatch(events: readonly CanonicalEvent[]): string {
  return `[${events.map(serializeEvent).join(",")}]`;
}
