import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { INT32_COUNTER, UINT32_COUNTER } from "@millwright/adapter-kit";
import { parseAdapterConfig } from "./config.js";

const valid = {
  endpointUrl: "opc.tcp://127.0.0.1:4840",
  sourceSystem: "urn:plc-line1:opcua-server",
  equipment: { id: "LINE1", level: "production_line", site: { id: "1710" }, path: ["ASSEMBLY"] },
  countObjectNodeId: "ns=3;s=Line1.Admin",
  signals: [
    { role: "machine_state", nodeId: "ns=3;s=Line1.State", mapping: { kind: "packml" } },
    { role: "good_count", nodeId: "ns=3;s=Line1.Good" },
    { role: "defective_count", nodeId: "ns=3;s=Line1.Defective", width: "uint32" },
    { role: "order_number", nodeId: "ns=3;s=Line1.Order" },
    { role: "process_value", nodeId: "ns=3;s=Line1.Speed", name: "speed", deadband: 0.5 },
  ],
};

describe("parseAdapterConfig", () => {
  it("accepts a valid configuration and applies defaults", () => {
    const config = parseAdapterConfig(valid)._unsafeUnwrap();
    expect(config.securityMode).toBe("None");
    expect(config.securityPolicy).toBe("None");
    expect(config.identity).toEqual({ type: "anonymous" });
    expect(config.unit).toBe("H87");
    expect(config.countObjectKind).toBe("PackMLAdminObjectType");
    expect(config.signals[1]).toEqual({ role: "good_count", nodeId: "ns=3;s=Line1.Good", width: INT32_COUNTER, samplingInterval: 250, queueSize: 1000, deadband: 0 });
    expect(config.signals[2]).toMatchObject({ width: UINT32_COUNTER });
  });

  it("accepts SignAndEncrypt with user name, certificate and key", () => {
    const config = parseAdapterConfig({
      ...valid,
      securityMode: "SignAndEncrypt",
      securityPolicy: "Basic256Sha256",
      certificateFile: "/etc/mw/cert.pem",
      privateKeyFile: "/etc/mw/key.pem",
      identity: { type: "username", userName: "mw", password: "secret" },
    });
    expect(config.isOk()).toBe(true);
  });

  it("names path, value and rule of every issue", () => {
    const error = parseAdapterConfig({
      ...valid,
      endpointUrl: "http://plc",
      securityMode: "Sign",
      identity: { type: "username", userName: "mw" },
      signals: [
        { role: "good_count", nodeId: "Line1.Good", deadband: 1 },
        { role: "machine_state", nodeId: "ns=3;s=A", mapping: { kind: "custom", values: { RUN: { availability: "running" } } } },
        { role: "machine_state", nodeId: "ns=3;s=A" },
      ],
    })._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"invalid OPC UA adapter configuration: /endpointUrl: endpointUrl is opc.tcp://host[:port][/path] (got "http://plc") and 7 more issues"`);
    expect(error.issues.map((i) => `${i.code} ${i.path}: ${i.rule}`)).toMatchInlineSnapshot(`
      [
        "invalid_value /endpointUrl: endpointUrl is opc.tcp://host[:port][/path]",
        "missing_field /certificateFile: certificateFile is required when securityMode is Sign or SignAndEncrypt",
        "missing_field /privateKeyFile: privateKeyFile is required when securityMode is Sign or SignAndEncrypt",
        "missing_field /identity/password: password is a string",
        "invalid_value /signals/0/nodeId: nodeId is an OPC UA node id such as ns=3;s=Line1.State or nsu=<uri>;i=5",
        "invalid_value /signals/1/mapping/values/RUN/availability: availability is one of not_available, out_of_service, not_executing, executing",
        "duplicate_signal /signals/2/nodeId: each node id is monitored once (also /signals/1)",
        "duplicate_signal /signals: at most one machine_state signal",
      ]
    `);
  });

  it("rejects a non-object and missing signals", () => {
    expect(parseAdapterConfig(null)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"invalid OPC UA adapter configuration: /: the configuration is an object (got null)"`);
    expect(parseAdapterConfig({ ...valid, signals: [] })._unsafeUnwrapErr().issues).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid_value",
          "path": "/signals",
          "rule": "signals is a non-empty array",
          "value": [],
        },
      ]
    `);
  });

  it("rejects a good counter together with a processed counter", () => {
    const error = parseAdapterConfig({ ...valid, signals: [...valid.signals, { role: "processed_count", nodeId: "ns=3;s=P" }] })._unsafeUnwrapErr();
    expect(error.issues[0]?.rule).toMatchInlineSnapshot(`"a good counter and a processed counter exclude each other: good is either counted or processed − defective"`);
  });

  it("accepts counters as plain variables, without a count object", () => {
    const { countObjectNodeId: _object, ...rest } = valid;
    const config = parseAdapterConfig(rest)._unsafeUnwrap();
    expect(config.countObjectNodeId).toBeUndefined();
    expect(parseAdapterConfig({ ...rest, countObjectKind: "PackMLAdminObjectType" })._unsafeUnwrapErr().issues).toMatchInlineSnapshot(`
      [
        {
          "code": "missing_field",
          "path": "/countObjectNodeId",
          "rule": "countObjectKind names the kind of countObjectNodeId: give both or neither",
        },
      ]
    `);
  });

  it("takes the margin of a counter as the most parts it counts between two readings, under half its range", () => {
    const width = (w: unknown) => parseAdapterConfig({ ...valid, signals: [{ role: "good_count", nodeId: "ns=3;s=G", width: w }] });
    expect(width({ max: 65535, wrapValue: 0 })._unsafeUnwrap().signals[0]).toMatchObject({ width: { max: 65535, wrapValue: 0, margin: 16384 } });
    expect(width({ max: 65535, wrapValue: 0, margin: 20_000 })._unsafeUnwrap().signals[0]).toMatchObject({ width: { margin: 20_000 } });
    expect(width({ max: 65535, wrapValue: 0, margin: 40_000 })._unsafeUnwrapErr().issues.map((i) => `${i.path}: ${i.rule} (${String(i.value)})`)).toMatchInlineSnapshot(`
      [
        "/signals/0/width/margin: margin is less than half the counter's range (65536), so that a rise, a rollover and a reset can be told apart (40000)",
      ]
    `);
    expect(width({ max: 65535, wrapValue: 0, margin: 0 }).isErr()).toBe(true);
  });

  it("never throws on any input (property)", () => {
    fc.assert(fc.property(fc.anything(), (input) => parseAdapterConfig(input).isErr()));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom("endpointUrl", "signals", "equipment", "securityMode", "identity"), fc.anything()), (patch) => {
        parseAdapterConfig({ ...valid, ...patch });
      }),
    );
  });
});
