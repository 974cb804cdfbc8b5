import fc from "fast-check";
import { err, ok, type Result } from "neverthrow";
import { describe, expect, it } from "vitest";
import { SOURCE, examplesByType } from "../test/fixtures.js";
import { modeOf, type BinaryPaths } from "./binding.js";
import { mqtt5, parseMqtt5Message, type Mqtt5Message } from "./bindings/mqtt.js";
import { canonicalDataText } from "./canonical-data.js";
import { createEvent } from "./create-event.js";
import { checkAttributes, finishEvent, type CanonicalEvent } from "./envelope.js";
import { attributeError, type EventError } from "./errors.js";
import { findRepeat, scanError } from "./json-scan.js";
import { parseEvent } from "./parse-event.js";
import { isJsonMediaType } from "./syntax.js";

// ---------------------------------------------------------------------------------------------
// The MQTT 5 read as it was before the binary-mode read (collectPrefixed with a pointer per
// header, fromBinary over readJsonData, decoding by TextDecoder alone): the oracle the new read
// must agree with, verdict for verdict and error for error.
// ---------------------------------------------------------------------------------------------

const oldUtf8 = new TextDecoder("utf-8", { fatal: true });

function oldDecodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return oldUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function oldReadJsonData(body: string | Uint8Array, path: string): Result<unknown, EventError> {
  const text = typeof body === "string" ? body : oldDecodeUtf8(body);
  if (text === undefined) return err(attributeError("unreadable_input", path, "is UTF-8 text"));
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (cause) {
    return err(attributeError("unreadable_input", path, `is JSON text (${cause instanceof Error ? cause.message : String(cause)})`));
  }
  const finding = findRepeat(text, value, 0);
  return finding === undefined ? ok(value) : err(scanError(finding, path));
}

const REPEATED = Symbol("repeated");

function oldReadHeaderValue(value: unknown): string | number | boolean | undefined | typeof REPEATED {
  if (Array.isArray(value)) {
    if (value.length !== 1) return REPEATED;
    return oldReadHeaderValue(value[0]);
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return oldDecodeUtf8(value);
  return undefined;
}

function oldCollect(headers: Readonly<Record<string, unknown>>): Result<Record<string, unknown>, EventError> {
  const attributes: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const origin: Record<string, string> = Object.create(null) as Record<string, string>;
  let contentType: string | undefined;
  for (const rawName of Object.keys(headers)) {
    const value = headers[rawName];
    if (value === undefined || value === null) continue;
    const name = rawName;
    const path = `/properties/userProperties/${rawName.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    const single = oldReadHeaderValue(value);
    if (single === REPEATED) return err(attributeError("duplicate_attribute", path, "each attribute occurs at most once"));
    if (name === "content-type") {
      if (typeof single !== "string") return err(attributeError("invalid_message", path, "is UTF-8 text"));
      if (contentType !== undefined) return err(attributeError("duplicate_attribute", path, "the content type occurs at most once"));
      contentType = single;
      continue;
    }
    const attribute = name;
    if (single === undefined) return err(attributeError("invalid_message", path, "is UTF-8 text"));
    if (Object.prototype.hasOwnProperty.call(origin, attribute)) {
      return err(attributeError("duplicate_attribute", path, `each attribute occurs at most once (also in ${origin[attribute]})`));
    }
    attributes[attribute] = single;
    origin[attribute] = rawName;
  }
  return ok(attributes);
}

const paths: BinaryPaths = { pathOf: (name) => `/properties/userProperties/${name}`, contentType: "/properties/contentType", body: "/payload" };

function oldToEvent5(message: Mqtt5Message): Result<CanonicalEvent, EventError> {
  const contentType = message.properties.contentType;
  const mode = modeOf(contentType);
  if (mode === "structured") return parseEvent(message.payload).mapErr((e) => ({ ...e, path: `/payload${e.path}` }));
  if (mode !== "binary") {
    return err(attributeError("invalid_message", "/properties/contentType", "names the JSON event format (application/cloudevents+json)", contentType));
  }
  const collected = oldCollect(message.properties.userProperties ?? {});
  if (collected.isErr()) return err(collected.error);
  const attributes = collected.value;
  if ("datacontenttype" in attributes) {
    return err(attributeError("invalid_message", "/properties/userProperties/datacontenttype", "binary mode carries datacontenttype in the Content Type property only"));
  }
  const body = message.payload;
  try {
    if (contentType !== undefined) attributes["datacontenttype"] = contentType;
    const pathOf = (name: string): string => (name === "datacontenttype" ? paths.contentType : paths.pathOf(name));
    const checked = checkAttributes(attributes, { pathOf, binary: true });
    if (checked.isErr()) return err(checked.error);
    if (contentType === undefined || !isJsonMediaType(contentType)) {
      return err(attributeError("unsupported_content_type", paths.contentType, "the data of a catalog event is JSON and says so in the content type", contentType));
    }
    if (body === undefined || body === null || body.length === 0) return err(attributeError("missing_attribute", paths.body, "catalog events carry data"));
    const data = oldReadJsonData(body, paths.body);
    if (data.isErr()) return err(data.error);
    return finishEvent(checked.value, data.value, (name) => (name === "data" ? paths.body : pathOf(name)));
  } catch (cause) {
    return err(attributeError("unreadable_input", "", `is a readable message (${cause instanceof Error ? cause.message : String(cause)})`));
  }
}

// ---------------------------------------------------------------------------------------------

/** RFC 8785 text of JSON data: members sorted by UTF-16 code units, ECMAScript strings and numbers. */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${jcs(record[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Both reads agree: the same verdict, the same event (member order included) or the same error. */
function expectSameRead(message: Mqtt5Message): void {
  const before = oldToEvent5(message);
  const now = mqtt5.toEvent(message);
  const read = parseMqtt5Message(message);
  expect(now.isOk()).toBe(before.isOk());
  expect(read.isOk()).toBe(before.isOk());
  if (before.isOk()) {
    const event = read._unsafeUnwrap().event;
    expect(JSON.stringify(now._unsafeUnwrap())).toBe(JSON.stringify(before.value));
    expect(JSON.stringify(event)).toBe(JSON.stringify(before.value));
    expect(Object.isFrozen(event)).toBe(true);
    const canonical = read._unsafeUnwrap().canonicalData();
    if (canonical !== undefined) expect(canonical).toBe(jcs(event.data));
  } else {
    expect(now._unsafeUnwrapErr()).toEqual(before.error);
    expect(read._unsafeUnwrapErr()).toEqual(before.error);
  }
}

const examples = examplesByType();
const example = fc.constantFrom(...examples);
const time = fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString());
const source = fc.constantFrom(SOURCE, "urn:millwright:mes:line-4", "https://erp.example.com/odata");
const text = fc.string({ unit: fc.oneof(fc.constantFrom("a", "é", "\u2028", "\ud800", "\udc00", "😀", '"', "\\", "\u0000", "{", "}", ":", ","), fc.string({ maxLength: 1 })) });

/** A binary-mode message of a valid event, its payload as the bytes mqtt.js hands over. */
function binaryOf(event: CanonicalEvent): Mqtt5Message {
  const m = mqtt5.binary(event);
  return { payload: Buffer.from(m.payload), properties: m.properties };
}

const validMessage = fc.tuple(example, source, time).map(([{ type, data }, src, t]) => binaryOf(createEvent({ type, source: src, data: data as never, time: t })._unsafeUnwrap()));

describe("parseMqtt5Message: the binary-mode read", () => {
  it("reads every valid event as the old read did, and its canonical data is the RFC 8785 text of the data", () => {
    let given = 0;
    fc.assert(
      fc.property(validMessage, fc.boolean(), (message, asText) => {
        const m = asText ? { ...message, payload: Buffer.from(message.payload).toString("utf8") } : message;
        expectSameRead(m);
        if (parseMqtt5Message(m)._unsafeUnwrap().canonicalData() !== undefined) given++;
      }),
      { numRuns: 300 },
    );
    // Most catalog examples are ASCII text with small numbers only: the canonical text is taken from them.
    expect(given).toBeGreaterThan(0);
  });

  it("gives the same verdict and error as the old read for broken payloads, user properties and content types", () => {
    const payload = fc.oneof(
      // Text cut and spliced anywhere.
      fc.tuple(validMessage, fc.nat(4000), fc.nat(40), text).map(([m, at, cut, insert]) => {
        const t = Buffer.from(m.payload).toString("utf8");
        const i = at % (t.length + 1);
        return { ...m, payload: t.slice(0, i) + insert + t.slice(i + cut) };
      }),
      // A member repeated inside the data (after a `{`), at any depth.
      fc.tuple(validMessage, fc.nat(4000)).map(([m, at]) => {
        const t = Buffer.from(m.payload).toString("utf8");
        let i = t.indexOf("{", at % t.length);
        if (i < 0) i = 0;
        const name = /^\{"([^"]*)":/.exec(t.slice(i))?.[1] ?? "revision";
        return { ...m, payload: `${t.slice(0, i + 1)}"${name}":1,${t.slice(i + 1)}` };
      }),
      // Bytes: invalid UTF-8, a byte-order mark, non-ASCII text.
      fc.tuple(validMessage, fc.uint8Array({ maxLength: 4 }), fc.nat(4000), fc.constantFrom("bom", "splice")).map(([m, bytes, at, how]) => {
        const b = Buffer.from(m.payload);
        if (how === "bom") return { ...m, payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]) };
        const i = at % (b.length + 1);
        return { ...m, payload: Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]) };
      }),
      fc.tuple(validMessage, fc.jsonValue()).map(([m, v]) => ({ ...m, payload: JSON.stringify(v) ?? "" })),
    );
    const headers = fc.tuple(
      validMessage,
      fc.dictionary(
        fc.oneof(fc.constantFrom("id", "source", "type", "subject", "time", "sequence", "content-type", "datacontenttype", "data", "__proto__", "a~b/c", "Bad", "ext1"), fc.string()),
        fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 2 }), fc.constant(undefined), fc.integer(), fc.boolean()),
        { maxKeys: 3 },
      ),
      fc.oneof(fc.constant(undefined), fc.constantFrom("application/json", "text/plain", "application/cloudevents+json", "application/cloudevents-batch+json", "application/cloudevents+xml", "application/vnd.x+json; charset=utf-8")),
    ).map(([m, extra, contentType]) => ({
      payload: m.payload,
      properties: { ...(contentType === undefined ? {} : { contentType }), userProperties: { ...m.properties.userProperties, ...(extra as Record<string, string>) } },
    }));
    fc.assert(fc.property(fc.oneof(payload, headers), (message) => expectSameRead(message)), { numRuns: 1500 });
  });

  it("reports a repeated member inside the data exactly as before, at any depth", () => {
    const [first] = examples;
    const event = createEvent({ type: first!.type, source: SOURCE, data: first!.data as never, time: "2026-02-25T20:05:12Z" })._unsafeUnwrap();
    const m = binaryOf(event);
    const t = Buffer.from(m.payload).toString("utf8");
    const repeated = { ...m, payload: `${t.slice(0, -1)},"revision":"1"}` };
    expectSameRead(repeated);
    expect(parseMqtt5Message(repeated)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/payload/revision" });
  });
});

describe("canonicalDataText", () => {
  const value = fc.jsonValue({ maxDepth: 4 });
  it("is the RFC 8785 text of the value when it gives one, and gives one for ASCII JSON.stringify text with small integers", () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, asBytes) => {
        const t = JSON.stringify(v);
        const bytes = asBytes && /^[\x00-\x7f]*$/.test(t) ? Buffer.from(t) : undefined;
        const canonical = canonicalDataText(t, JSON.parse(t), bytes === undefined ? {} : { bytes });
        if (canonical !== undefined) expect(canonical).toBe(jcs(JSON.parse(t)));
        const simple = !/[\\\u0080-\uffff]/.test(t) && !/(^|[^"\w.])(-?\d{3,}|-?\d+\.|\d+e)/i.test(t) && !/[{,]"\d/.test(t);
        if (simple && !/-?\d*\.\d|\d[eE]|-[1-9]\d|\d{3}|-0/.test(t)) expect(canonical).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });

  it("gives none for text that is not JSON.stringify of its value: white space, escapes, other numbers", () => {
    for (const t of ['{ "a":1}', '{"a":"\\u0041"}', '{"a":1.5}', '{"a":100}', '{"1":2,"a":1}', '{"a":1,"a":2}', '{"a":-0}', '"\\ud800"']) {
      expect(canonicalDataText(t, JSON.parse(t))).toBeUndefined();
    }
    expect(canonicalDataText('{"b":[{"d":1,"c":2}],"a":null,"__proto__":true}', JSON.parse('{"b":[{"d":1,"c":2}],"a":null,"__proto__":true}'))).toBe(
      '{"__proto__":true,"a":null,"b":[{"c":2,"d":1}]}',
    );
    expect(canonicalDataText('"x"', "x")).toBe('"x"');
  });
});
