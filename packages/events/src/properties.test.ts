import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SOURCE, examplesByType, sampleEvent } from "../test/fixtures.js";
import { http } from "./bindings/http.js";
import { kafka } from "./bindings/kafka.js";
import { createEvent } from "./create-event.js";
import { parseEvent, parseEventBatch } from "./parse-event.js";
import { serializeEvent } from "./serialize.js";
import { readJsonData } from "./envelope.js";

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

/** JSON text of a value, with the characters of strings and names escaped as \uXXXX at random. */
function writeJson(value: unknown, escape: () => boolean): string {
  if (typeof value === "string") {
    let out = '"';
    for (const ch of value) {
      for (let k = 0; k < ch.length; k++) {
        const unit = ch.charCodeAt(k);
        if (unit < 0x20 || unit === 0x22 || unit === 0x5c || escape()) out += `\\u${unit.toString(16).padStart(4, "0")}`;
        else out += ch[k];
      }
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => writeJson(v, escape)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${writeJson(k, escape)}:${writeJson(v, escape)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const escapes = fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return (state & 7) === 0;
  };
});

// The way from the top of the data down to the object with the repeated name.
const step = fc.oneof(
  fc.record({ kind: fc.constant("array" as const), before: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }), after: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("object" as const), key: fc.string(), siblings: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) }),
);

const pointerSegment = (name: string): string => name.replace(/~/g, "~0").replace(/\//g, "~1");

describe("repeated member names (#15)", () => {
  const sample = serializeEvent(sampleEvent());
  const dataAt = sample.indexOf('"data":') + '"data":'.length;
  const withData = (data: string): string => `${sample.slice(0, dataAt)}${data}}`;

  it("texts without repeated names read exactly as JSON.parse reads them, in every path", () => {
    fc.assert(
      fc.property(fc.jsonValue(), escapes, (value, escape) => {
        const text = writeJson(value, escape);
        expect(readJsonData(text, "/body")._unsafeUnwrap()).toStrictEqual(JSON.parse(text));
        // As the data of an event: the same verdict as for the already parsed object.
        const event = withData(text);
        expect(parseEvent(event)).toStrictEqual(parseEvent(JSON.parse(event)));
        expect(parseEvent(new TextEncoder().encode(event))).toStrictEqual(parseEvent(JSON.parse(event)));
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it("a name repeated at any depth is refused with the pointer to its second occurrence", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 20 }),
        fc.string(),
        fc.jsonValue({ maxDepth: 2 }),
        fc.array(step, { maxLength: 6 }),
        escapes,
        fc.boolean(),
        (members, fresh, repeatedValue, steps, escape, pickExisting) => {
          const names = Object.keys(members);
          const name = pickExisting && names.length > 0 ? (names[names.length >> 1] as string) : fresh;
          const first = names.includes(name) ? members : { [name]: null, ...members };
          let text = `${writeJson(first, escape).slice(0, -1)}${Object.keys(first).length > 0 ? "," : ""}${writeJson(name, escape)}:${writeJson(repeatedValue, escape)}}`;
          let pointer = `/${pointerSegment(name)}`;
          for (let i = steps.length - 1; i >= 0; i--) {
            const s = steps[i] as (typeof steps)[number];
            if (s.kind === "array") {
              text = `[${[...s.before.map((v) => writeJson(v, escape)), text, ...s.after.map((v) => writeJson(v, escape))].join(",")}]`;
              pointer = `/${s.before.length}${pointer}`;
            } else {
              const siblings = Object.entries(s.siblings).filter(([k]) => k !== s.key);
              text = `{${[...siblings.map(([k, v]) => `${writeJson(k, escape)}:${writeJson(v, escape)}`), `${writeJson(s.key, escape)}:${text}`].join(",")}}`;
              pointer = `/${pointerSegment(s.key)}${pointer}`;
            }
          }
          expect(() => JSON.parse(text)).not.toThrow();
          // A pointer longer than 1024 characters is cut back to an ancestor of the member.
          const fits = (path: string, full: string): boolean => (pointer.length <= 1024 ? path === full : full.startsWith(`${path}/`));
          const fromBody = readJsonData(text, "/body")._unsafeUnwrapErr();
          expect(fromBody.code).toBe("duplicate_member");
          expect(fits(fromBody.path, `/body${pointer}`)).toBe(true);
          const fromEvent = parseEvent(withData(text))._unsafeUnwrapErr();
          expect(fromEvent.code).toBe("duplicate_member");
          expect(fits(fromEvent.path, `/data${pointer}`)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
