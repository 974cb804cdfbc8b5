import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
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
