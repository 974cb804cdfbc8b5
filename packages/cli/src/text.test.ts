import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { boundText, escapeControls, previewValue } from "./text.js";

describe("text for the terminal", () => {
  test("controls, separators, direction overrides, BOMs and lone surrogates become visible escapes", () => {
    expect(escapeControls("a\u001b[2Jb\u009b1m\u202eevil\u2028\ufeff\ud800\n")).toBe("a\\u001b[2Jb\\u009b1m\\u202eevil\\u2028\\ufeff\\ud800\\u000a");
    expect(escapeControls("line 1\nline 2\u0007", true)).toBe("line 1\nline 2\\u0007");
    expect(escapeControls("Grüße 😀 — ok")).toBe("Grüße 😀 — ok");
  });

  test("no text survives with a character a terminal acts on, and JSON text stays the same JSON", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(escapeControls(s)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
        const json = JSON.stringify({ s });
        expect(JSON.parse(escapeControls(json, true))).toEqual({ s });
      }),
    );
  });

  test("long text is cut and says how much was left out", () => {
    expect(boundText("x".repeat(1000), 10)).toBe("xxxxxxxxxx… (990 more characters)");
    expect(boundText("short", 10)).toBe("short");
    expect(previewValue("y".repeat(500), 20)).toBe('"yyyyyyyyyyyyyyyyyyy… (482 more characters)');
  });
});
