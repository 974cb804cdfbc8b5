import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LineIndex, locatePointer } from "./locate.js";

describe("locatePointer", () => {
  const text = '{\n  "a": {"b": [10, {"c": "x"}]},\n  "d~/e": 1,\n  "a": {"b": [20, 30]}\n}';

  test("lands on the value a pointer names, or on the member's name", () => {
    expect(text.slice(locatePointer(text, "/d~0~1e"))).toMatch(/^1,/);
    expect(text.slice(locatePointer(text, "/d~0~1e", "name"))).toMatch(/^"d~\/e"/);
    expect(text.slice(locatePointer(text, ""))).toMatch(/^\{/);
  });

  test("a repeated name lands on the last occurrence, the one JSON.parse keeps", () => {
    expect(text.slice(locatePointer(text, "/a/b/1"))).toMatch(/^30\]/);
  });

  test("a pointer past what the text holds lands on the deepest value that exists", () => {
    expect(text.slice(locatePointer(text, "/a/missing/x"))).toMatch(/^\{"b": \[20/);
    expect(text.slice(locatePointer(text, "/a/b/7"))).toMatch(/^\[20/);
  });

  test("for every value of any JSON document, the pointer lands where that value's text starts", () => {
    const pointers = (value: unknown, base: string): [string, unknown][] => {
      const here: [string, unknown][] = [[base, value]];
      if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pointers(v, `${base}/${i}`))];
      if (typeof value === "object" && value !== null) {
        return [...here, ...Object.entries(value).flatMap(([k, v]) => pointers(v, `${base}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`))];
      }
      return here;
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(0, 2, "\t"), (value, space) => {
        const json = JSON.stringify(value, null, space);
        for (const [pointer, expected] of pointers(JSON.parse(json), "")) {
          const at = locatePointer(json, pointer);
          // The value's text starts at `at`: its first line is written there.
          expect(json.startsWith(JSON.stringify(expected, null, space).split("\n")[0] as string, at), `${pointer} in ${json}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("LineIndex", () => {
  test("1-based lines and columns", () => {
    const index = new LineIndex("ab\ncd\n\nef");
    expect([0, 1, 3, 6, 7, 8].map((o) => index.position(o))).toEqual([
      { line: 1, column: 1 },
      { line: 1, column: 2 },
      { line: 2, column: 1 },
      { line: 3, column: 1 },
      { line: 4, column: 1 },
      { line: 4, column: 2 },
    ]);
  });
});
