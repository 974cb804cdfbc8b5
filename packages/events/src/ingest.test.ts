import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SOURCE, TIME, TYPE, examplesByType, sampleEvent, workOrder } from "../test/fixtures.js";
import type { EventType } from "@millwright/model";
import { createEvent, ingestEvent, type IngestEventInput } from "./create-event.js";
import { parseEvent, parseEventBatch } from "./parse-event.js";
import { canonicalMemberNames, countMemberNames, findRepeat, parsedKeyCount, provablyCanonical, scanError, scanJsonText } from "./json-scan.js";
import { serializeAttributes, serializeEvent } from "./serialize.js";

const examples = examplesByType();
const example = fc.constantFrom(...examples);
const time = fc
  .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
const source = fc.constantFrom(SOURCE, "urn:millwright:mes:line-4", "https://erp.example.com/odata", "/plant/1710", "", "bad uri");
const extension = fc.option(
  fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.oneof(fc.boolean(), fc.integer(), fc.string()), { maxKeys: 2 }),
  { nil: undefined },
);
const traceparent = fc.option(fc.constantFrom("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-bad", ""), { nil: undefined });
const tracestate = fc.option(fc.constantFrom("congo=t61rcWkgMzE", "bad state \u0001"), { nil: undefined });
// An explicit id or subject: valid, empty, or with a control character.
const override = fc.option(fc.constantFrom("order-1000123", "", "a\u0001b", "\ud800"), { nil: undefined });

/** A seeded coin, so one generated value decides many small choices reproducibly. */
const coins = fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => {
  let state = seed;
  return (oneIn: number): boolean => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return (state >> 8) % oneIn === 0;
  };
});
type Coin = (oneIn: number) => boolean;

const SPACE = [" ", "\n", "\t", "\r\n  "];

/**
 * JSON text of a value written in the many ways JSON allows: white space between tokens, `\uXXXX`
 * and `\/` escapes, numbers with fractions and exponents. `JSON.parse` of it equals the value.
 */
function writeLoose(value: unknown, coin: Coin, escapes = true): string {
  const ws = (): string => (coin(4) ? (SPACE[(coin(2) ? 1 : 0) + (coin(2) ? 2 : 0)] as string) : "");
  if (typeof value === "string") {
    let out = '"';
    for (let k = 0; k < value.length; k++) {
      const unit = value.charCodeAt(k);
      if (escapes && unit === 0x2f && coin(3)) out += "\\/";
      else if (unit < 0x20 || unit === 0x22 || unit === 0x5c || (escapes && coin(12))) {
        const hex = unit.toString(16).padStart(4, "0");
        out += `\\u${coin(2) ? hex.toUpperCase() : hex}`;
      }
      else out += value[k];
    }
    return `${out}"`;
  }
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) < 1e15) {
    if (coin(5)) return `${value}.0`;
    if (coin(5)) return `${value}e0`;
    if (value === 0 && coin(3)) return "-0";
    return String(value);
  }
  if (Array.isArray(value)) return `${ws()}[${ws()}${value.map((v) => `${ws()}${writeLoose(v, coin, escapes)}${ws()}`).join(",")}]${ws()}`;
  if (typeof value === "object" && value !== null) {
    const members = Object.entries(value).map(([k, v]) => `${ws()}${writeLoose(k, coin, escapes)}${ws()}:${ws()}${writeLoose(v, coin, escapes)}${ws()}`);
    return `${ws()}{${members.join(",")}}${ws()}`;
  }
  return JSON.stringify(value);
}

/** A JSON value as text with members as pairs, so that an object may repeat a name (at any depth). */
type Tree = string | number | boolean | null | { array: Tree[] } | { object: [string, Tree][] };
const names = fc.constantFrom("a", "b", "data", "id", "\u00e9", "x/y", "");
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 4 }), fc.stringMatching(/^[a-z]{0,3}$/), fc.integer(), fc.integer({ min: -12, max: 120 }), fc.constantFrom(1.5, -0.25, 1e21, -0), fc.boolean(), fc.constant(null)),
    fc.record({ array: fc.array(tie("tree"), { maxLength: 3 }) }),
    fc.record({ object: fc.array(fc.tuple(names, tie("tree")), { maxLength: 4 }) }),
  ),
}));

function writeTree(t: Tree, coin: Coin): string {
  if (typeof t !== "object" || t === null) return writeLoose(t, coin);
  if ("array" in t) return `[${t.array.map((v) => writeTree(v, coin)).join(",")}]`;
  return `{${t.object.map(([k, v]) => `${writeLoose(k, coin)}:${writeTree(v, coin)}`).join(coin(3) ? " , " : ",")}}`;
}

/** Whether any object in a JSON value has a member name that starts with a digit. */
function hasDigitName(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(hasDigitName);
  return Object.entries(value).some(([k, v]) => /^[0-9]/.test(k) || hasDigitName(v));
}

/** The slow path: parse the data text, createEvent, serializeEvent (no repeat check of its own). */
function slowPath(input: Parameters<typeof ingestEvent>[0]): ReturnType<typeof createEvent> {
  return createEvent({ ...input, data: JSON.parse(input.data as string) as never });
}

describe("ingestEvent", () => {
  it("gives exactly serializeEvent(createEvent(JSON.parse(text))) for valid events, however the data text is written", () => {
    fc.assert(
      fc.property(example, source, time, extension, traceparent, tracestate, override, override, coins, fc.constantFrom("compact", "loose", "spaced"), (ex, src, t, extensions, tp, ts, id, subject, coin, style) => {
        // As JSON.stringify writes it; with escapes, white space and other number forms; with white space and number forms only.
        const text = style === "compact" ? JSON.stringify(ex.data) : writeLoose(ex.data, coin, style === "loose");
        const input: IngestEventInput<EventType> = {
          type: ex.type,
          source: src,
          data: text,
          time: t,
          ...(extensions === undefined ? {} : { extensions }),
          ...(tp === undefined ? {} : { traceparent: tp }),
          ...(ts === undefined ? {} : { tracestate: ts }),
          ...(id === undefined ? {} : { id }),
          ...(subject === undefined ? {} : { subject }),
        };
        const fast = ingestEvent(input);
        const slow = slowPath(input);
        if (slow.isErr()) {
          expect(fast._unsafeUnwrapErr()).toStrictEqual(slow.error);
          return;
        }
        const ingested = fast._unsafeUnwrap();
        expect(ingested.text).toBe(serializeEvent(slow.value));
        expect(ingested.event).toStrictEqual(slow.value);
        expect(Object.isFrozen(ingested.event)).toBe(true);
        // The text reads back as the slow path's text does (JSON text has no -0).
        expect(parseEvent(ingested.text)).toStrictEqual(parseEvent(serializeEvent(slow.value)));
        // Bytes give the same as text.
        expect(ingestEvent({ ...input, data: new TextEncoder().encode(text) })).toStrictEqual(fast);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it("takes the splice for text JSON.stringify wrote, and refuses it for every other way of writing the same value", () => {
    for (const { data } of examples) expect(canonicalMemberNames(JSON.stringify(data))).toBe(parsedKeyCount(data));
    for (const text of ['{"a": 1}', ' {"a":1}', '{"a":"\\u0041"}', '{"a":"\\/"}', '{"a":1.0}', '{"a":1e2}', '{"a":-0}', '{"1":1}', '{"a":"\ud800"}', '{"a":12345678901234567890}']) {
      expect(canonicalMemberNames(text)).toBe(-1);
    }
    expect(canonicalMemberNames('{"a":"\\"\\\\\\b\\f\\n\\r\\t","b":[1.5,-2,0,1e+21,true,null],"":{}}')).toBe(3);
    // The proof by length holds for text JSON.stringify wrote with small integers and no escapes…
    const order = workOrder();
    expect(provablyCanonical(JSON.stringify(order), order)).toBe(true);
    for (const text of ['{"a":1,"b":[true,null,"x"],"c":{}}', '{"a":-9,"b":99,"c":0}', "[]", '""', '"\u00e9\u2028"']) {
      expect(provablyCanonical(text, JSON.parse(text))).toBe(true);
    }
    // …and for nothing written otherwise, nor for a repeat, however the lengths might balance.
    for (const text of ['{"a":1,"a":1}', '{"a":1e2}', '{"a":100}', '{"a":-0}', '{"a":"\\n"}', '{"1":1}', '{"a": 1}', '{"a":"\\ud800"}', '{"a":"\\/"}', '{"a":1,"b":2,"a":3}', '{"a":0.5}', '{"a":"\ud800"}']) {
      expect(provablyCanonical(text, JSON.parse(text))).toBe(false);
    }
  });

  it("never splices text that JSON.stringify would write differently", () => {
    const writer = fc.oneof(
      fc.jsonValue().map((v) => (coin: Coin) => writeLoose(v, coin)),
      fc.jsonValue().map((v) => () => JSON.stringify(v)),
      tree.map((t) => (coin: Coin) => writeTree(t, coin)),
    );
    fc.assert(
      fc.property(writer, coins, (write, coin) => {
        const text = write(coin);
        const names = canonicalMemberNames(text);
        if (names >= 0 && names === parsedKeyCount(JSON.parse(text))) {
          expect(JSON.stringify(JSON.parse(text))).toBe(text);
        }
        if (names >= 0) expect(names).toBe(countMemberNames(text));
        // The proof by length: whenever it holds, the text is what JSON.stringify writes and has no repeat.
        if (provablyCanonical(text, JSON.parse(text))) {
          expect(JSON.stringify(JSON.parse(text))).toBe(text);
          expect(scanJsonText(text, 0)).toBeUndefined();
        }
        const plain = JSON.stringify(JSON.parse(text));
        // Whatever JSON.stringify writes is accepted, unless it needed \u escapes or array-index names.
        if (!plain.includes("\\u") && !hasDigitName(JSON.parse(text))) expect(canonicalMemberNames(plain)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it("refuses data text with a repeated name at any depth exactly as the full scan does", () => {
    const order = workOrder();
    fc.assert(
      fc.property(tree, coins, fc.constantFrom(...Object.keys(order)), (t, coin, at) => {
        // The repeat-bearing tree as a member of valid data, and as the data itself.
        const inner = writeTree(t, coin);
        const text = `${JSON.stringify(order).slice(0, -1)},${JSON.stringify(at)}:${inner}}`;
        for (const data of [inner, text]) {
          const finding = scanJsonText(data, 0);
          const result = ingestEvent({ type: TYPE, source: SOURCE, data, time: TIME });
          if (finding !== undefined) expect(result._unsafeUnwrapErr()).toStrictEqual(scanError(finding, "/data"));
          else expect(result).toStrictEqual(slowPath({ type: TYPE, source: SOURCE, data, time: TIME }).map((event) => ({ event, text: serializeEvent(event) })));
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it("refuses what createEvent refuses, and text that is not JSON, never throwing", () => {
    const data = JSON.stringify(workOrder());
    expect(ingestEvent({ type: TYPE, source: SOURCE, data: "{", time: TIME })._unsafeUnwrapErr()).toMatchObject({ code: "unreadable_input", path: "/data" });
    expect(ingestEvent({ type: TYPE, source: SOURCE, data: new Uint8Array([0xff]), time: TIME })._unsafeUnwrapErr()).toMatchObject({ code: "unreadable_input", path: "/data" });
    expect(ingestEvent({ type: TYPE, source: SOURCE, data: 7 as never, time: TIME })._unsafeUnwrapErr()).toMatchObject({ code: "unreadable_input", path: "/data" });
    expect(ingestEvent({ type: "dev.millwright.nothing.v1" as never, source: SOURCE, data, time: TIME })._unsafeUnwrapErr().code).toBe("unknown_event_type");
    expect(ingestEvent({ type: TYPE, source: SOURCE, data, time: undefined as never })._unsafeUnwrapErr().code).toBe("missing_attribute");
    expect(ingestEvent({ type: TYPE, source: SOURCE, data, time: "yesterday" })._unsafeUnwrapErr()).toMatchObject({ code: "invalid_attribute_value", path: "/time" });
    expect(ingestEvent({ type: TYPE, source: SOURCE, data: '{"a":1,"a":2}', time: TIME })._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/a" });
  });
});

describe("the repeat check's fast path", () => {
  it("gives the full scan's verdict for any text, at every event depth", () => {
    fc.assert(
      fc.property(tree, coins, (t, coin) => {
        const text = writeTree(t, coin);
        const value = JSON.parse(text) as unknown;
        for (const depth of [0, 1, 2] as const) expect(findRepeat(text, value, depth)).toStrictEqual(scanJsonText(text, depth));
        expect(parsedKeyCount(value) === countMemberNames(text)).toBe(scanJsonText(text, 0) === undefined);
        // And through the readers: parseEvent and parseEventBatch decide as they did with the full scan.
        const asEvent = parseEvent(text);
        const finding = scanJsonText(text, 1);
        if (finding !== undefined) expect(asEvent._unsafeUnwrapErr()).toStrictEqual(scanError(finding, ""));
        const batch = parseEventBatch(`[${text}]`);
        const batchFinding = scanJsonText(`[${text}]`, 2);
        if (batchFinding !== undefined) expect(batch._unsafeUnwrapErr()).toStrictEqual(scanError(batchFinding, ""));
      }),
      { numRuns: 1000 },
    );
  }, 120_000);

  it("does not trust key counts when Object.prototype has an enumerable member, and survives deep nesting", () => {
    const text = '{"a":1,"a":2}';
    const proto = Object.prototype as Record<string, unknown>;
    proto["polluted"] = 1;
    try {
      expect(parsedKeyCount(JSON.parse(text))).toBe(-1);
      expect(findRepeat(text, JSON.parse(text), 0)).toMatchObject({ kind: "member", path: "/a" });
    } finally {
      delete proto["polluted"];
    }
    const deep = `${'{"a":'.repeat(5000)}{"x":1,"x":2}${"}".repeat(5000)}`;
    expect(findRepeat(deep, JSON.parse(deep), 0)?.kind).toBe("member");
    const deepOk = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect(findRepeat(deepOk, JSON.parse(deepOk), 0)).toBeUndefined();
  });
});

describe("serializeAttributes", () => {
  it("writes every attribute value exactly as JSON.stringify does, escapes and surrogates included", () => {
    const event = sampleEvent();
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary-ascii" }), fc.constantFrom("source", "subject", "tracestate", "id"), (value, ascii, name) => {
        for (const v of [value, ascii]) {
          const changed = { ...event, [name]: v } as unknown as typeof event;
          let want = `{"specversion":"1.0","id":${JSON.stringify(changed.id)},"source":${JSON.stringify(changed.source)},"type":${JSON.stringify(changed.type)}`;
          for (const key of ["subject", "time", "datacontenttype", "dataschema", "partitionkey", "sequence", "traceparent", "tracestate"] as const) {
            if (changed[key] !== undefined) want += `,"${key}":${JSON.stringify(changed[key])}`;
          }
          expect(serializeAttributes(changed)).toBe(want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
