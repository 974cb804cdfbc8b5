import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, fingerprint } from "./fingerprint.js";

const VECTORS = join(import.meta.dirname, "..", "test", "fixtures", "rfc8785");
const read = (name: string): string => readFileSync(join(VECTORS, name), "utf8");

describe("canonicalJson against the RFC 8785 test vectors", () => {
  const lines = read("numbers.txt").trim().split("\n");
  it.each(lines.map((l) => l.split(" ") as [string, string]))("number %s serializes as %s", (hex, expected) => {
    const value = Buffer.from(hex, "hex").readDoubleBE(0);
    const text = canonicalJson(value);
    if (expected === "error") expect(text.isErr()).toBe(true);
    else expect(text._unsafeUnwrap()).toBe(expected);
  });

  it("serializes the §3.2.2 structures example byte for byte", () => {
    expect(canonicalJson(JSON.parse(read("structures.input.json")))._unsafeUnwrap()).toBe(read("structures.expected.json"));
  });

  it("sorts properties by UTF-16 code units (§3.2.3)", () => {
    const text = canonicalJson(JSON.parse(read("sorting.input.json")))._unsafeUnwrap();
    expect(Buffer.from(text, "utf8")).toEqual(readFileSync(join(VECTORS, "sorting.expected.json")));
  });
});

describe("canonicalJson", () => {
  it("rejects what has no canonical form, naming why", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    const messages = [Number.NaN, Number.POSITIVE_INFINITY, "\ud800", cyclic, undefined].map((v) => canonicalJson(v)._unsafeUnwrapErr().message);
    expect(messages).toMatchInlineSnapshot(`
      [
        "has no canonical JSON form: NaN is not allowed",
        "has no canonical JSON form: Infinity is not allowed",
        "has no canonical JSON form: Lone surrogate is not allowed",
        "has no canonical JSON form: Circular reference detected",
        "has no canonical JSON form: undefined is not a JSON value",
      ]
    `);
  });

  it("is independent of member order and round-trips through JSON.parse", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)._unsafeUnwrap();
        expect(canonicalJson(JSON.parse(text))._unsafeUnwrap()).toBe(text);
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          expect(canonicalJson(reversed)._unsafeUnwrap()).toBe(text);
        }
      }),
    );
  });
});

describe("fingerprint", () => {
  it("is SHA-256 over the canonical UTF-8 bytes", () => {
    const expected = createHash("sha256").update('{"a":1,"b":[true,null]}', "utf8").digest("hex");
    expect(fingerprint({ b: [true, null], a: 1 })._unsafeUnwrap()).toBe(expected);
    expect(fingerprint({ a: 1 })._unsafeUnwrap()).toBe("015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
  });

  it("never throws", () => {
    fc.assert(fc.property(fc.anything(), (value) => void fingerprint(value)));
  });
});

/** What the `canonicalize` library (the reference) says: its text, or the message it refuses with. */
function reference(value: unknown): { readonly text: string | undefined } | { readonly refused: string } {
  try {
    return { text: canonicalize(value) };
  } catch (cause) {
    return { refused: cause instanceof Error ? cause.message : String(cause) };
  }
}

function ours(value: unknown): { readonly text: string | undefined } | { readonly refused: string } {
  const result = canonicalJson(value);
  if (result.isOk()) return { text: result.value };
  const prefix = "has no canonical JSON form: ";
  const message = result.error.message.slice(prefix.length);
  return message.endsWith(" is not a JSON value") ? { text: undefined } : { refused: message };
}

/** Any UTF-16 unit, lone surrogates included, plus a bias towards escapes and astral pairs. */
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('"', "\\", "\n", "\u0000", "\u001f", "\u007f", "\u2028", "\ud83d\ude00", "\ud800", "\udfff", "\u00e9", "a", "A", "1"),
);
const text = fc.string({ unit, maxLength: 12 });
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, 2 ** 53, 0.1 + 0.2, 123456789012345680000, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
const { json } = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.boolean(), number, text, tie("array"), tie("object")),
  array: fc.array(tie("json"), { maxLength: 6 }),
  object: fc.dictionary(text, tie("json"), { maxKeys: 6 }),
}));

describe("canonicalJson matches the canonicalize library byte for byte", () => {
  it("on arbitrary JSON with any UTF-16 names and strings (lone surrogates too) and any doubles", () => {
    fc.assert(fc.property(json, (value) => {
      expect(ours(value)).toEqual(reference(value));
    }), { numRuns: 3000 });
  });

  it("on fast-check's JSON values with full-unicode strings", () => {
    fc.assert(fc.property(fc.jsonValue({ stringUnit: "binary" }), (value) => {
      expect(ours(value)).toEqual(reference(value));
    }), { numRuns: 1000 });
  });

  it("on anything: boxed values, dates, maps, sparse arrays, null prototypes, bigints, functions", () => {
    const anything = fc.anything({
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withBigInt: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      withObjectString: true,
      withUnicodeString: true,
    });
    fc.assert(fc.property(anything, (value) => {
      expect(ours(value)).toEqual(reference(value));
    }), { numRuns: 2000 });
  });

  it("on the values the direct writer hands over: undefined and functions in arrays, holes, toJSON, depth, cycles, symbols", () => {
    const deep: unknown[] = [];
    let cursor = deep;
    for (let i = 0; i < 300; i++) {
      const next: unknown[] = [];
      cursor.push(i, next);
      cursor = next;
    }
    const cyclic: Record<string, unknown> = { a: [1, { b: 2 }] };
    ((cyclic["a"] as unknown[])[1] as Record<string, unknown>)["back"] = cyclic;
    const shared = { x: 1 };
    const values: unknown[] = [
      [undefined, 1],
      [() => 1, 2],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { f: () => 1, s: Symbol("s"), u: undefined, n: 1 },
      { toJSON: () => ({ b: 1, a: 2 }) },
      { when: new Date(0), ["\ud800"]: undefined },
      { ["\ud800"]: 1 },
      [Symbol("s")],
      { big: 1n },
      deep,
      cyclic,
      { one: shared, two: shared, list: [shared, shared] },
      { z: { y: [-0, 1e21, 1e-7, "\u2028\u0007é😀"] }, a: null, "\u00e9": true, "😀": false, "\uff61": 0, "\u20ac": 1 },
    ];
    for (const value of values) expect(ours(value)).toEqual(reference(value));
  });
});
