import { describe, expect, it } from "vitest";
import { readNavigation, stripMetadata, unwrapCollection, unwrapEntity } from "./odata-envelope.js";

describe("OData V2 envelopes", () => {
  it("unwraps entities and collections with __next and __count", () => {
    expect(unwrapEntity({ d: { A: 1 } })._unsafeUnwrap()).toEqual({ A: 1 });
    expect(unwrapCollection({ d: { results: [{ A: 1 }], __next: "X?$skiptoken=1", __count: "7" } })._unsafeUnwrap()).toEqual({
      results: [{ A: 1 }],
      next: "X?$skiptoken=1",
      count: 7,
    });
    expect(unwrapCollection({ d: [{ A: 1 }] })._unsafeUnwrap().results).toHaveLength(1);
    expect(unwrapEntity({ d: { results: [] } })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/d/results has value "[…]": expected one entity, got a collection"`);
    expect(unwrapCollection({ value: [] })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/d/results is missing: an OData V2 collection response is {"d": {"results": […]}}"`);
  });

  it("reads expanded, deferred and absent navigations and strips metadata", () => {
    expect(readNavigation({ n: { results: [{ a: 1 }] } }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: ["/results/0"] });
    expect(readNavigation({ n: [{ a: 1 }] }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: ["/0"] });
    expect(readNavigation({ n: { a: 1 } }, "n")).toEqual({ kind: "expanded", rows: [{ a: 1 }], rowPaths: [""] });
    expect(readNavigation({ n: { __deferred: { uri: "u" } } }, "n")).toEqual({ kind: "deferred", uri: "u" });
    expect(readNavigation({}, "n")).toEqual({ kind: "absent" });
    expect(readNavigation({ n: null }, "n")).toEqual({ kind: "null" });
    expect(stripMetadata({ __metadata: { type: "t" }, A: "1", n: { __deferred: { uri: "u" } } })).toEqual({ A: "1" });
  });
});

describe("malformed and paged navigations", () => {
  it("reports what is not an expanded navigation at a path that exists, and never drops rows", () => {
    expect(readNavigation({ n: { results: null } }, "n")).toMatchObject({ kind: "invalid", path: "/results", value: null });
    expect(readNavigation({ n: {} }, "n")).toMatchObject({ kind: "invalid", path: "", value: {} });
    expect(readNavigation({ n: "x" }, "n")).toMatchObject({ kind: "invalid", path: "" });
    expect(readNavigation({ n: { results: [{ a: 1 }, 2] } }, "n")).toMatchObject({ kind: "invalid", path: "/results/1", value: 2 });
    expect(readNavigation({ n: [{ a: 1 }, null] }, "n")).toMatchObject({ kind: "invalid", path: "/1", value: null });
  });

  it("flags a server-paged expanded navigation as incomplete", () => {
    expect(readNavigation({ n: { results: [{ a: 1 }], __next: "E('1')/n?$skiptoken=1" } }, "n")).toEqual({
      kind: "incomplete",
      rows: [{ a: 1 }],
      rowPaths: ["/results/0"],
      next: "E('1')/n?$skiptoken=1",
    });
  });
});
