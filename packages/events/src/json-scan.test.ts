import { describe, expect, it } from "vitest";
import { MAX_POINTER, scanJsonText } from "./json-scan.js";

describe("scanJsonText", () => {
  it("finds a repeat among many members (the Set path) and after escaped names", () => {
    const members = Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`);
    expect(scanJsonText(`{${members.join(",")}}`, 0)).toBeUndefined();
    expect(scanJsonText(`{${members.join(",")},"k7":0}`, 0)).toMatchObject({ kind: "member", path: "/k7", name: "k7" });
    expect(scanJsonText(`{"\\u006b1":0,${members.join(",")}}`, 0)).toMatchObject({ kind: "member", path: "/k1" });
  });

  it("tells attributes from members and reads batches per event", () => {
    expect(scanJsonText('{"id":"a","id":"b"}', 1)).toMatchObject({ kind: "attribute", path: "/id" });
    expect(scanJsonText('[{"id":"a"},{"id":"a","data":{"x":[{},{"y":1,"y":2}]}}]', 2)).toMatchObject({ kind: "member", path: "/1/data/x/1/y" });
    expect(scanJsonText('[{"a":1},{"a":1}]', 2)).toBeUndefined();
    expect(scanJsonText('{"a":{"b":1},"c":{"b":1}}', 0)).toBeUndefined();
  });

  it("keeps the pointer bounded for deep nesting and long names", () => {
    const deep = `${'{"a":'.repeat(5000)}{"x":1,"x":2}${"}".repeat(5000)}`;
    const finding = scanJsonText(deep, 0);
    expect(finding?.kind).toBe("member");
    expect(finding?.path.length).toBeLessThanOrEqual(MAX_POINTER);
    expect(finding?.path.startsWith("/a/a/a")).toBe(true);
  });

  it("ends on text that is not JSON (callers run JSON.parse first, but it must not hang)", () => {
    for (const text of ['{"a', '{"a":"b', '{"\\u00', "[", '{"a":1,"a', '["\\"]']) expect(() => scanJsonText(text, 1)).not.toThrow();
  });
});
