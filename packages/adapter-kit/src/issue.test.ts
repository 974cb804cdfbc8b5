import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundedText, issue, preview } from "./issue.js";

describe("issue", () => {
  it("names the path, the value and the rule", () => {
    expect(issue("invalid_wire_value", "/d/TotalQuantity", 500, 'Edm.Decimal is a JSON string such as "500.000"')).toMatchInlineSnapshot(`
      {
        "code": "invalid_wire_value",
        "message": "/d/TotalQuantity has value 500: Edm.Decimal is a JSON string such as "500.000"",
        "path": "/d/TotalQuantity",
        "rule": "Edm.Decimal is a JSON string such as "500.000"",
        "value": 500,
      }
    `);
  });

  it("says a missing value is missing, names the root, and leaves value absent", () => {
    const missing = issue("missing_property", "", undefined, "an OData V2 entity object");
    expect(missing.message).toMatchInlineSnapshot(`"(root) is missing: an OData V2 entity object"`);
    expect("value" in missing).toBe(false);
    expect(issue("invalid_event", "/type", null, "an event has a type").value).toBeNull();
  });
});

describe("preview", () => {
  it("shows JSON, bounded, without control characters", () => {
    expect(preview("500,000")).toBe('"500,000"');
    expect(preview({ results: null })).toBe('{"results":null}');
    expect(preview(undefined)).toBe("undefined");
    expect(preview(10n)).toBe("[object BigInt]");
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(preview(cycle)).toBe("[object Object]");
    expect(preview("x".repeat(200))).toMatchInlineSnapshot(`""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"`);
    expect(preview("a\u0000b\u2028c\u0085")).toBe('"a\\u0000b\\u2028c\\u0085"');
  });
});

describe("boundedText", () => {
  it("escapes control characters and cuts long text with an ellipsis", () => {
    expect(boundedText("line\nbreak")).toBe("line\\u000abreak");
    expect(boundedText("\u0085no".repeat(10_000), 1000)).toHaveLength(1000);
    expect(boundedText("\u0085no".repeat(10_000), 1000)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(boundedText("abcdef", 4)).toBe("abc…");
  });

  it("never throws, stays within the bound and prints no control character, for any value", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true, withTypedArray: true }), fc.integer({ min: 3, max: 200 }), (value, max) => {
        const text = preview(value, max);
        expect(text.length).toBeLessThanOrEqual(Math.max(max, "undefined".length, "[object Object]".length));
        expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      }),
      { numRuns: 500 },
    );
  });
});
