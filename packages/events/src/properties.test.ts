import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SOURCE, examplesByType, sampleEvent } from "../test/fixtures.js";
import { http } from "./bindings/http.js";
import { kafka } from "./bindings/kafka.js";
import { createEvent } from "./create-event.js";
import { parseEvent, parseEventBatch } from "./parse-event.js";
import { serializeEvent } from "./serialize.js";

const examples = examplesByType();
const example = fc.constantFrom(...examples);
const time = fc
  .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
const source = fc.constantFrom(SOURCE, "urn:millwright:mes:line-4", "https://erp.example.com/odata", "/plant/1710");
const extension = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/).filter((k) => !["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "partitionkey", "sequence", "traceparent", "tracestate", "data"].includes(k)),
  fc.oneof(fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string().filter((s) => /^[\x20-\x7e]*$/.test(s))),
  { maxKeys: 3 },
);

describe("properties", () => {
  it("createEvent is deterministic", () => {
    fc.assert(
      fc.property(example, source, time, ({ type, data }, src, t) => {
        const a = createEvent({ type, source: src, data: data as never, time: t });
        const b = createEvent({ type, source: src, data: structuredClone(data) as never, time: t });
        expect(serializeEvent(a._unsafeUnwrap())).toBe(serializeEvent(b._unsafeUnwrap()));
      }),
    );
  });

  it("parseEvent(serializeEvent(createEvent(x))) round-trips byte-exactly, also through HTTP and Kafka", () => {
    fc.assert(
      fc.property(example, source, time, extension, ({ type, data }, src, t, extensions) => {
        const event = createEvent({ type, source: src, data: data as never, time: t, extensions })._unsafeUnwrap();
        const text = serializeEvent(event);
        const back = parseEvent(text)._unsafeUnwrap();
        expect(serializeEvent(back)).toBe(text);
        expect(back).toEqual(event);
        expect(serializeEvent(http.toEvent(http.structured(event))._unsafeUnwrap() as typeof event)).toBe(text);
        expect(serializeEvent(kafka.toEvent(kafka.structured(event))._unsafeUnwrap())).toBe(text);
      }),
    );
  });

  it("parseEvent never throws on arbitrary values, text or bytes", () => {
    const text = serializeEvent(sampleEvent());
    const mutatedText = fc.tuple(fc.nat(text.length), fc.nat(40), fc.string()).map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.json(), fc.string(), fc.uint8Array(), mutatedText, fc.jsonValue()), (input) => {
        const results = [parseEvent(input), parseEventBatch(input)];
        for (const r of results) expect(r.isOk() || typeof r.error.code === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("bindings never throw on arbitrary headers", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()))), fc.oneof(fc.string(), fc.uint8Array()), (headers, body) => {
        expect(() => http.toEvent({ headers, body })).not.toThrow();
        expect(() => kafka.toEvent({ key: null, headers, value: body })).not.toThrow();
      }),
    );
  });
});
