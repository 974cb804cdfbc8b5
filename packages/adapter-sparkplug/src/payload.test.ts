import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bits, tahu, tahuEncode } from "../test/helpers.js";
import { decodeSparkplugPayload, encodeSparkplugPayload } from "./payload.js";
import { PAYLOAD_TYPE } from "./proto.js";

const decode = (bytes: Uint8Array) => decodeSparkplugPayload(bytes)._unsafeUnwrap();
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

describe("decodeSparkplugPayload", () => {
  it("reads Int64 and UInt64 exactly at their limits, encoded by Tahu", () => {
    const bytes = tahuEncode({
      timestamp: 1772431960125,
      seq: 7,
      metrics: [
        { name: "i64min", type: "Int64", value: bits(-(2n ** 63n)) },
        { name: "i64max", type: "Int64", value: bits(2n ** 63n - 1n) },
        { name: "u64max", type: "UInt64", value: bits(2n ** 64n - 1n) },
        { name: "beyond53", type: "UInt64", value: bits(2n ** 53n + 1n) },
        { name: "u32", type: "UInt32", value: 4294967295 },
        { name: "i32", type: "Int32", value: -5 },
        { name: "i8", type: "Int8", value: -128 },
        { name: "u16", type: "UInt16", value: 65535 },
        { name: "dt", type: "DateTime", value: 1772431960125 },
        { name: "f", type: "Float", value: 1.5 },
        { name: "d", type: "Double", value: 0.1 },
        { name: "b", type: "Boolean", value: true },
        { name: "s", type: "String", value: "Ä" },
        { name: "t", type: "Text", value: "text" },
        { name: "u", type: "UUID", value: "0b0f4ff6-0c9a-4f5e-9e35-6e5b0b4e6a11" },
        { name: "bytes", type: "Bytes", value: new Uint8Array([1, 2, 3]) },
      ],
    });
    const payload = decode(bytes);
    expect(payload.seq).toBe(7);
    expect(payload.timestamp).toBe(1772431960125);
    expect(Object.fromEntries(payload.metrics.map((m) => [m.name, m.value]))).toEqual({
      i64min: -(2n ** 63n),
      i64max: 2n ** 63n - 1n,
      u64max: 2n ** 64n - 1n,
      beyond53: 2n ** 53n + 1n,
      u32: 4294967295,
      i32: -5,
      i8: -128,
      u16: 65535,
      dt: 1772431960125,
      f: 1.5,
      d: 0.1,
      b: true,
      s: "Ä",
      t: "text",
      u: "0b0f4ff6-0c9a-4f5e-9e35-6e5b0b4e6a11",
      bytes: new Uint8Array([1, 2, 3]),
    });
  });

  it("decodes a DataSet and a Template that Tahu encoded", () => {
    const payload = decode(
      tahuEncode({
        timestamp: 1,
        metrics: [
          { name: "Recipe", type: "DataSet", value: { numOfColumns: 2, columns: ["step", "temp"], types: ["Int32", "Double"], rows: [[1, 180.5], [2, 200]] } },
          {
            name: "Motor",
            type: "Template",
            value: { templateRef: "MotorType", isDefinition: false, version: "1", metrics: [{ name: "rpm", type: "Int32", value: 1450 }], parameters: [{ name: "size", type: "String", value: "L" }] },
          },
        ],
      }),
    );
    expect(payload.metrics[0]?.value).toEqual({ kind: "dataset", columns: ["step", "temp"], types: ["Int32", "Double"], rows: [[1, 180.5], [2, 200]] });
    const template = payload.metrics[1]?.value;
    expect(template).toMatchObject({ kind: "template", templateRef: "MotorType", isDefinition: false, version: "1", parameters: [{ name: "size", type: "String", value: "L" }] });
    expect((template as unknown as { metrics: { name?: string; value: unknown }[] }).metrics[0]).toMatchObject({ name: "rpm", value: 1450 });
  });

  it("decodes the Sparkplug 3.0 arrays from their little-endian bytes", () => {
    const u64 = new Uint8Array(16);
    new DataView(u64.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    new DataView(u64.buffer).setBigUint64(8, 5n, true);
    const bytes = PAYLOAD_TYPE.encode({
      metrics: [
        { name: "u64s", datatype: 29, bytesValue: u64 },
        { name: "i16s", datatype: 23, bytesValue: new Uint8Array([0xff, 0xff, 0x02, 0x00]) },
        { name: "bools", datatype: 32, bytesValue: new Uint8Array([3, 0, 0, 0, 0b1010_0000]) },
        { name: "strings", datatype: 33, bytesValue: new TextEncoder().encode("a\u0000bc\u0000") },
      ],
    }).finish();
    expect(decode(bytes).metrics.map((m) => m.value)).toEqual([[2n ** 64n - 1n, 5n], [-1, 2], [true, false, true], ["a", "bc"]]);
  });

  it("rejects bytes that are not a payload, and a datatype outside the 35, naming the field", () => {
    expect(decodeSparkplugPayload(new Uint8Array([0x0a, 0xff]))._unsafeUnwrapErr().code).toBe("invalid_protobuf");
    const error = decodeSparkplugPayload(PAYLOAD_TYPE.encode({ metrics: [{ name: "x", datatype: 99, intValue: 1 }] }).finish())._unsafeUnwrapErr();
    expect(error).toMatchObject({ code: "invalid_field", path: "/metrics/0/datatype", value: 99 });
  });

  it("refuses a metric that carries two members of its value oneof, naming them", () => {
    // Legal protobuf (the last one wins), but which one came last is not known after decoding.
    const bytes = concat(PAYLOAD_TYPE.encode({ metrics: [{ name: "x", datatype: 10, doubleValue: 1.5 }] }).finish(), PAYLOAD_TYPE.encode({ metrics: [] }).finish());
    expect(decode(bytes).metrics[0]?.value).toBe(1.5);
    const metric = concat(PAYLOAD_TYPE.lookupType("Metric").encode({ name: "x", datatype: 10, doubleValue: 1.5 }).finish(), PAYLOAD_TYPE.lookupType("Metric").encode({ intValue: 2 }).finish());
    const two = concat(new Uint8Array([0x12, metric.length]), metric);
    expect(decodeSparkplugPayload(two)._unsafeUnwrapErr()).toMatchObject({ code: "invalid_field", path: "/metrics/0", value: ["intValue", "doubleValue"] });
  });

  it("round-trips any Int64 and UInt64 exactly, and Tahu's decoder reads the same bits", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (i, u) => {
        const bytes = encodeSparkplugPayload({ timestamp: 1, metrics: [{ name: "i", datatype: "Int64", value: i }, { name: "u", datatype: "UInt64", value: u }] })._unsafeUnwrap();
        expect(decode(bytes).metrics.map((m) => m.value)).toEqual([i, u]);
        const theirs = tahu.decodePayload(bytes).metrics ?? [];
        // Tahu returns Int64 as an unsigned Long (its instanceof check fails across Long copies): compare the bits.
        expect(BigInt.asIntN(64, BigInt(String(theirs[0]?.value)))).toBe(i);
        expect(BigInt((theirs[1]?.value as { toUnsigned(): { toString(): string } }).toUnsigned().toString())).toBe(u);
      }),
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeSparkplugPayload(bytes);
        expect(result.isOk() || result.isErr()).toBe(true);
      }),
    );
  });

  it("refuses a value outside its datatype", () => {
    expect(encodeSparkplugPayload({ timestamp: 1, metrics: [{ name: "x", datatype: "UInt64", value: -1n }] })._unsafeUnwrapErr()).toMatchObject({ code: "unsupported_value", path: "/metrics/0" });
    expect(encodeSparkplugPayload({ timestamp: 1, metrics: [{ name: "x", datatype: "Int8", value: 128 }] })._unsafeUnwrapErr().message).toBe("a Int8 is an integer from -128 to 127");
  });
});
