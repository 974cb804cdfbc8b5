import { describe, expect, it } from "vitest";
import { sampleEvent, sampleJson } from "../test/fixtures.js";
import { parseEvent, parseEventBatch } from "./parse-event.js";
import { serializeEvent, serializeEventBatch } from "./serialize.js";

type Mutation = (e: Record<string, unknown>) => void;

function codeOf(mutate: Mutation): string {
  const json = sampleJson();
  mutate(json);
  const result = parseEvent(json);
  return result.isErr() ? result.error.code : "ok";
}

// One row per CloudEvents MUST rule (reference/cloudevents.md A–C): breaking the rule must fail.
const rules: [rule: string, mutate: Mutation, code: string][] = [
  ["#1 id required", (e) => delete e["id"], "missing_attribute"],
  ["#1 source required", (e) => delete e["source"], "missing_attribute"],
  ["#1 specversion required", (e) => delete e["specversion"], "missing_attribute"],
  ["#1 type required", (e) => delete e["type"], "missing_attribute"],
  ["#3 names are lower-case", (e) => (e["myExt"] = "x"), "invalid_attribute_name"],
  ["#3 names have no dash", (e) => (e["my-ext"] = "x"), "invalid_attribute_name"],
  ["#3 names have no underscore", (e) => (e["my_ext"] = "x"), "invalid_attribute_name"],
  ["#3 names are not empty", (e) => (e[""] = "x"), "invalid_attribute_name"],
  ["#5 no object values", (e) => (e["myext"] = { a: 1 }), "invalid_attribute_type"],
  ["#5 no array values", (e) => (e["myext"] = [1]), "invalid_attribute_type"],
  ["#5 no fractional numbers", (e) => (e["myext"] = 1.5), "invalid_attribute_type"],
  ["#5 core attributes are strings", (e) => (e["subject"] = 42), "invalid_attribute_type"],
  ["#6 int32 upper bound", (e) => (e["myext"] = 2 ** 31), "out_of_range"],
  ["#6 int32 lower bound", (e) => (e["myext"] = -(2 ** 31) - 1), "out_of_range"],
  ["#6 not 2^40", (e) => (e["myext"] = 2 ** 40), "out_of_range"],
  ["#7 no C0 controls", (e) => (e["subject"] = "a\u0001b"), "invalid_character"],
  ["#7 no C1 controls", (e) => (e["myext"] = "a\u0085b"), "invalid_character"],
  ["#7 no DEL", (e) => (e["id"] = "a\u007fb"), "invalid_character"],
  ["#7 no noncharacters", (e) => (e["subject"] = "a\ufdd0"), "invalid_character"],
  ["#7 no plane noncharacters", (e) => (e["subject"] = "a\u{2fffe}"), "invalid_character"],
  ["#7 no lone surrogates", (e) => (e["subject"] = "a\ud800"), "invalid_character"],
  ["#9 id non-empty", (e) => (e["id"] = ""), "invalid_attribute_value"],
  ["#10 source non-empty", (e) => (e["source"] = ""), "invalid_attribute_value"],
  ["#10 source is a URI-reference", (e) => (e["source"] = "not a uri"), "invalid_attribute_value"],
  ["#11 specversion exactly 1.0", (e) => (e["specversion"] = "2.0"), "unsupported_specversion"],
  ["#11 specversion not 1", (e) => (e["specversion"] = "1"), "unsupported_specversion"],
  ["#12 type non-empty", (e) => (e["type"] = ""), "invalid_attribute_value"],
  ["#13 datacontenttype syntax", (e) => (e["datacontenttype"] = "json"), "invalid_attribute_value"],
  ["#13 datacontenttype non-empty", (e) => (e["datacontenttype"] = ""), "invalid_attribute_value"],
  ["#14 dataschema absolute", (e) => (e["dataschema"] = "/schemas/x"), "invalid_attribute_value"],
  ["#14 dataschema non-empty", (e) => (e["dataschema"] = ""), "invalid_attribute_value"],
  ["#15 subject non-empty", (e) => (e["subject"] = ""), "invalid_attribute_value"],
  ["#16 time RFC 3339", (e) => (e["time"] = "2026-02-25 20:05:12Z"), "invalid_attribute_value"],
  ["#16 time has an offset", (e) => (e["time"] = "2026-02-25T20:05:12"), "invalid_attribute_value"],
  ["#16 time is a real day", (e) => (e["time"] = "2026-02-30T20:05:12Z"), "invalid_attribute_value"],
  ["#17 extensions follow the type system", (e) => (e["partitionkey"] = true), "invalid_attribute_type"],
  ["#4 no attribute named data (binary only; in JSON data is the data)", (e) => (e["data"] = "not an order"), "invalid_data"],
  ["#22 data xor data_base64", (e) => (e["data_base64"] = "e30="), "conflicting_data"],
  ["#23 data_base64 is Base64", (e) => { e["data_base64"] = "not base64!"; delete e["data"]; }, "invalid_attribute_value"],
  ["#25 data_base64 is not assumed JSON", (e) => { e["data_base64"] = "e30="; delete e["data"]; delete e["datacontenttype"]; }, "unsupported_content_type"],
  ["#25 a JSON string is not parsed twice", (e) => (e["data"] = JSON.stringify(e["data"])), "invalid_data"],
  ["catalog: unknown type", (e) => (e["type"] = "com.example.thing.v1"), "unknown_event_type"],
  ["catalog: unknown major version", (e) => (e["type"] = "dev.millwright.workorder.completed.v2"), "unknown_event_version"],
  ["catalog: data is valid", (e) => ((e["data"] as Record<string, unknown>)["status"] = "released"), "invalid_data"],
  ["catalog: data present", (e) => delete e["data"], "missing_attribute"],
  ["catalog: JSON content type", (e) => (e["datacontenttype"] = "text/plain"), "unsupported_content_type"],
  ["catalog: dataschema matches", (e) => (e["dataschema"] = "https://example.com/other"), "inconsistent_attribute"],
  ["catalog: sequence matches", (e) => (e["sequence"] = "1"), "inconsistent_attribute"],
  ["catalog: partitionkey matches", (e) => (e["partitionkey"] = "x"), "inconsistent_attribute"],
  ["traceparent syntax", (e) => (e["traceparent"] = "00-abc"), "invalid_attribute_value"],
  ["tracestate syntax", (e) => (e["tracestate"] = "UPPER=1"), "invalid_attribute_value"],
];

describe("parseEvent enforces every CloudEvents MUST rule", () => {
  it("accepts the unmodified sample", () => {
    expect(codeOf(() => undefined)).toBe("ok");
  });

  it.each(rules)("%s", (_rule, mutate, code) => {
    expect(codeOf(mutate)).toBe(code);
  });

  it("#21 treats null as unset", () => {
    expect(codeOf((e) => (e["subject"] = null))).toBe("ok");
    expect(codeOf((e) => (e["myext"] = null))).toBe("ok");
    const r = parseEvent({ ...sampleJson(), subject: null, data_base64: null })._unsafeUnwrap();
    expect("subject" in r).toBe(false);
  });

  it("#5/#6 accepts Boolean, int32 Integer and String extensions, typed in `extensions`", () => {
    const r = parseEvent({ ...sampleJson(), flag: true, count: -2147483648, max: 2147483647, note: "" })._unsafeUnwrap();
    expect(r.extensions).toEqual({ flag: true, count: -2147483648, max: 2147483647, note: "" });
    expect(Object.isFrozen(r)).toBe(true);
  });

  it("#16 keeps time exactly as sent", () => {
    for (const time of ["2024-04-14T11:12:33.123456+02:00", "2018-04-05T03:56:24Z", "2016-12-31t23:59:60z"]) {
      expect(parseEvent({ ...sampleJson(), time })._unsafeUnwrap().time).toBe(time);
    }
  });

  it("#25 decodes data_base64 with a JSON datacontenttype", () => {
    const json = sampleJson();
    const base64 = Buffer.from(JSON.stringify(json["data"])).toString("base64");
    delete json["data"];
    expect(parseEvent({ ...json, data_base64: base64 })._unsafeUnwrap().data).toEqual(sampleEvent().data);
  });

  it("#2 rejects duplicate attributes in JSON text and bytes", () => {
    const text = serializeEvent(sampleEvent()).replace('"specversion":"1.0",', '"specversion":"1.0","subject":"other",');
    const result = parseEvent(text);
    expect(result._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "duplicate_attribute",
        "message": "/subject: each attribute occurs at most once",
        "path": "/subject",
        "rule": "each attribute occurs at most once",
      }
    `);
    expect(parseEvent(new TextEncoder().encode(text))._unsafeUnwrapErr().code).toBe("duplicate_attribute");
    const escaped = serializeEvent(sampleEvent()).replace('"specversion":"1.0",', '"\\u0069d":"x",');
    expect(parseEvent(escaped)._unsafeUnwrapErr().code).toBe("duplicate_attribute");
  });

  it("#20 rejects an Integer written with a fraction or an exponent", () => {
    const base = serializeEvent(sampleEvent());
    expect(parseEvent(base.replace('"specversion"', '"n":1.0,"specversion"'))._unsafeUnwrapErr().code).toBe("invalid_attribute_type");
    expect(parseEvent(base.replace('"specversion"', '"n":1e3,"specversion"'))._unsafeUnwrapErr().code).toBe("invalid_attribute_type");
    expect(parseEvent(base.replace('"specversion"', '"n":-12,"specversion"'))._unsafeUnwrap().extensions).toEqual({ n: -12 });
  });

  it("rejects unreadable input without throwing", () => {
    expect(parseEvent("{")._unsafeUnwrapErr().code).toBe("unreadable_input");
    expect(parseEvent(new Uint8Array([0x7b, 0xc0, 0xa0, 0x7d]))._unsafeUnwrapErr().code).toBe("unreadable_input");
    expect(parseEvent([])._unsafeUnwrapErr().code).toBe("unreadable_input");
    expect(parseEvent(null)._unsafeUnwrapErr().code).toBe("unreadable_input");
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error("no"); } });
    expect(parseEvent(hostile)._unsafeUnwrapErr().code).toBe("unreadable_input");
  });

  it("pins the error messages", () => {
    const json = sampleJson();
    expect(parseEvent({ ...json, myExt: 1 })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/myExt: attribute names are 1 or more of a-z and 0-9 (got "myExt")"`);
    expect(parseEvent({ ...json, big: 2 ** 40 })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/big: is an Integer from -2147483648 to 2147483647 (got 1099511627776)"`);
    expect(parseEvent({ ...json, type: "dev.millwright.workorder.completed.v9" })._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"/type: the catalog has this type, but not in this major version (got "dev.millwright.workorder.completed.v9")"`);
    const invalid = parseEvent({ ...json, data: { ...(json["data"] as object), status: "released" } })._unsafeUnwrapErr();
    expect(invalid.message).toMatchInlineSnapshot(`"/data: WorkOrder is invalid: /status: "released" does not fit event type dev.millwright.workorder.completed.v1, whose data has /status in "completed""`);
  });
});

describe("parseEventBatch", () => {
  it("reads a batch, including an empty one", () => {
    expect(parseEventBatch("[]")._unsafeUnwrap()).toEqual([]);
    const text = serializeEventBatch([sampleEvent(), sampleEvent()]);
    expect(parseEventBatch(text)._unsafeUnwrap()).toHaveLength(2);
  });

  it("names the failing event by index, and finds duplicates per event", () => {
    const one = serializeEvent(sampleEvent());
    expect(parseEventBatch(`[${one},${one.replace('"specversion":"1.0"', '"specversion":"2.0"')}]`)._unsafeUnwrapErr().path).toBe("/1/specversion");
    expect(parseEventBatch(`[${one},${one.replace('"specversion":"1.0",', '"specversion":"1.0","id":"x",')}]`)._unsafeUnwrapErr()).toMatchObject({
      code: "duplicate_attribute",
      path: "/1/id",
    });
    expect(parseEventBatch("{}")._unsafeUnwrapErr().code).toBe("unreadable_input");
  });
});

describe("repeated member names at any depth (#15)", () => {
  const text = serializeEvent(sampleEvent());
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

  it("rejects a repeated name in the data, from text and from bytes, with its pointer", () => {
    const repeated = text.replace('"data":{"orderId":"1000098",', '"data":{"orderId":"1000098","orderId":"1000099",');
    expect(repeated).not.toBe(text);
    expect(parseEvent(repeated)._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "duplicate_member",
        "message": "/data/orderId: each member name occurs at most once in an object, compared after unescaping (got "orderId")",
        "path": "/data/orderId",
        "rule": "each member name occurs at most once in an object, compared after unescaping",
        "value": "orderId",
      }
    `);
    expect(parseEvent(bytes(repeated))._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/orderId" });
  });

  it("finds repeats in nested objects and in objects inside arrays", () => {
    const nested = text.replace('"site":{"id":"1710"}', '"site":{"id":"1710","id":"1711"}');
    expect(parseEvent(nested)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/site/id" });
    const inArray = text.replace('"operationId":"0020",', '"operationId":"0020","description":"x",');
    expect(parseEvent(inArray)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/operations/1/description" });
  });

  it("compares names after unescaping", () => {
    const escaped = text.replace('"data":{"orderId":"1000098",', '"data":{"\\u006frderId":"1000099","orderId":"1000098",');
    expect(parseEvent(escaped)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/orderId", value: "orderId" });
    const both = text.replace('"data":{"orderId":"1000098",', '"data":{"a\\/b":1,"a/\\u0062":2,"orderId":"1000098",');
    expect(parseEvent(both)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data/a~1b" });
  });

  it("is not fooled by braces, quotes and backslashes inside strings", () => {
    const tricky = text.replace('"description":"Cut and weld"', '"description":"{\\"x\\":1,\\"x\\":2} \\\\\\" [\\\\"');
    expect(JSON.parse(tricky)).toBeTruthy();
    expect(parseEvent(tricky).isOk()).toBe(true);
  });

  it("bounds the repeated name in the value and the message", () => {
    const long = "k".repeat(100_000);
    const repeated = text.replace('"data":{"orderId":"1000098",', `"data":{"${long}":1,"${long}":2,"orderId":"1000098",`);
    const error = parseEvent(repeated)._unsafeUnwrapErr();
    expect(error.code).toBe("duplicate_member");
    expect(String((error as { value?: unknown }).value).length).toBeLessThanOrEqual(64);
    expect(error.message.length).toBeLessThan(300);
    expect(error.path.length).toBeLessThanOrEqual(1024);
  });

  it("checks data_base64 after decoding and every event of a batch", () => {
    const json = sampleJson();
    const data = JSON.stringify(json["data"]).replace('{"orderId":"1000098",', '{"orderId":"1000098","orderId":"1",');
    delete json["data"];
    const withBase64 = JSON.stringify({ ...json, data_base64: Buffer.from(data).toString("base64") });
    expect(parseEvent(withBase64)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/data_base64/orderId" });
    const repeated = text.replace('"site":{"id":"1710"}', '"site":{"id":"1710","id":"1711"}');
    expect(parseEventBatch(`[${text},${repeated}]`)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/1/data/site/id" });
  });
});
