import { describe, expect, it } from "vitest";
import { SOURCE, TIME, TYPE, workOrder } from "../../test/fixtures.js";
import { createEvent } from "../create-event.js";
import type { CanonicalEvent } from "../envelope.js";
import { serializeEvent } from "../serialize.js";
import { amqp } from "./amqp.js";
import { http } from "./http.js";
import { kafka } from "./kafka.js";
import { mqtt3, mqtt5 } from "./mqtt.js";
import { nats } from "./nats.js";

const event: CanonicalEvent = createEvent({
  type: TYPE,
  source: SOURCE,
  data: workOrder() as never,
  time: TIME,
  subject: "Euro € 😀",
  extensions: { note: 'a "b" %', shift: 2, late: true },
})._unsafeUnwrap();

describe.each([
  ["http", http],
  ["kafka", kafka],
  ["mqtt5", mqtt5],
  ["mqtt3", mqtt3],
  ["amqp", amqp],
  ["nats", nats],
] as const)("%s binding", (_name, binding) => {
  it("round-trips in binary and structured mode through the one validator", () => {
    for (const message of [binding.binary(event), binding.structured(event)]) {
      expect(binding.isEvent(message as never)).toBe(true);
      const back = binding.toEvent(message as never)._unsafeUnwrap() as CanonicalEvent;
      // Binary mode carries extensions as strings unless the transport has typed values.
      expect(serializeEvent({ ...back, extensions: event.extensions } as CanonicalEvent)).toBe(serializeEvent(event));
    }
  });
});

describe("HTTP binding", () => {
  it("percent-encodes header values (§3.1.3.2)", () => {
    const { headers } = http.binary(event);
    expect(headers["ce-subject"]).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(headers["ce-note"]).toBe("a%20%22b%22%20%25");
    expect(headers["ce-datacontenttype"]).toBeUndefined();
    expect(headers["content-type"]).toBe("application/json");
  });

  it("matches header names case-insensitively and rejects repeats (#2, #31)", () => {
    const { headers, body } = http.binary(event);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(http.toEvent({ headers: upper, body }).isOk()).toBe(true);
    expect(http.toEvent({ headers: { ...headers, "CE-ID": "other" }, body })._unsafeUnwrapErr().code).toBe("duplicate_attribute");
    expect(http.toEvent({ headers: { ...headers, "ce-id": ["a", "b"] }, body })._unsafeUnwrapErr().code).toBe("duplicate_attribute");
  });

  it("rejects ce-datacontenttype in binary mode (#30), invalid UTF-8 (#32) and the reserved name data (#4)", () => {
    const { headers, body } = http.binary(event);
    expect(http.toEvent({ headers: { ...headers, "ce-datacontenttype": "application/json" }, body })._unsafeUnwrapErr().code).toBe("invalid_message");
    expect(http.toEvent({ headers: { ...headers, "ce-subject": "%C0%A0" }, body })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_message",
        "message": "/headers/ce-subject: is percent-encoded UTF-8 (HTTP binding §3.1.3.2) (got "%C0%A0")",
        "path": "/headers/ce-subject",
        "rule": "is percent-encoded UTF-8 (HTTP binding §3.1.3.2)",
        "value": "%C0%A0",
      }
    `);
    expect(http.toEvent({ headers: { ...headers, "ce-data": "x" }, body })._unsafeUnwrapErr().code).toBe("reserved_attribute_name");
    expect(http.toEvent({ headers: { ...headers, "ce-my_ext": "x" }, body })._unsafeUnwrapErr().code).toBe("invalid_attribute_name");
  });

  it("detects the mode from Content-Type case-insensitively (#29) and reads batches", () => {
    const { body } = http.structured(event);
    expect(http.toEvent({ headers: { "Content-Type": "Application/CloudEvents+JSON" }, body }).isOk()).toBe(true);
    expect(http.toEvent({ headers: { "content-type": "application/cloudevents+xml" }, body })._unsafeUnwrapErr().code).toBe("invalid_message");
    const batch = http.batch([event, event]);
    expect(batch.headers["content-type"]).toMatch(/^application\/cloudevents-batch\+json/);
    expect(http.toEvent(batch)._unsafeUnwrap()).toHaveLength(2);
    expect(http.isEvent({ headers: { "content-type": "application/json" }, body: "{}" })).toBe(false);
  });

  it("checks the data in binary mode like every other path", () => {
    const { headers } = http.binary(event);
    expect(http.toEvent({ headers, body: "{}" })._unsafeUnwrapErr()).toMatchObject({ code: "invalid_data", path: "/body" });
    expect(http.toEvent({ headers, body: "" })._unsafeUnwrapErr().code).toBe("missing_attribute");
    expect(http.toEvent({ headers: { ...headers, "content-type": "text/plain" }, body: "x" })._unsafeUnwrapErr().code).toBe("unsupported_content_type");
    expect(http.toEvent({ headers: { ...headers, "ce-specversion": "0.3" }, body: "{}" })._unsafeUnwrapErr().code).toBe("unsupported_specversion");
  });
});

describe("Kafka binding", () => {
  it("keys records by partitionkey in both modes", () => {
    expect(kafka.binary(event).key).toBe("1710/1000098");
    expect(kafka.structured(event).key).toBe("1710/1000098");
  });

  it("reads header bytes and rejects repeated headers", () => {
    const m = kafka.binary(event);
    const bytes = Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(String(v))]));
    expect(kafka.toEvent({ ...m, headers: bytes }).isOk()).toBe(true);
    expect(kafka.toEvent({ ...m, headers: { ...m.headers, ce_id: ["a", "b"] } })._unsafeUnwrapErr().code).toBe("duplicate_attribute");
    expect(kafka.toEvent({ ...m, headers: { ...m.headers, ce_id: Buffer.from([0xc0, 0xa0]) } })._unsafeUnwrapErr().code).toBe("invalid_message");
  });
});

describe("AMQP binding", () => {
  it("writes cloudEvents_ properties with native Integer and Boolean values and reads the cloudEvents: prefix", () => {
    const m = amqp.binary(event);
    expect(m.applicationProperties["cloudEvents_shift"]).toBe(2);
    expect(amqp.toEvent(m)._unsafeUnwrap().extensions).toEqual({ note: 'a "b" %', shift: 2, late: true });
    const legacy = Object.fromEntries(Object.entries(m.applicationProperties).map(([k, v]) => [k.replace("cloudEvents_", "cloudEvents:"), v]));
    expect(amqp.toEvent({ ...m, applicationProperties: legacy }).isOk()).toBe(true);
    expect(amqp.toEvent({ ...m, applicationProperties: { ...m.applicationProperties, "cloudEvents:id": "x" } })._unsafeUnwrapErr().code).toBe("duplicate_attribute");
  });
});

describe("MQTT and NATS bindings", () => {
  it("put attributes in MQTT 5 user properties and datacontenttype in Content Type", () => {
    const m = mqtt5.binary(event);
    expect(m.properties.contentType).toBe("application/json");
    expect(m.properties.userProperties?.["subject"]).toBe("Euro € 😀");
    expect(mqtt5.toEvent({ ...m, properties: { ...m.properties, userProperties: { ...m.properties.userProperties, datacontenttype: "x/y" } } })._unsafeUnwrapErr().code).toBe("invalid_message");
  });

  it("send MQTT 3.1.1 in structured mode only", () => {
    expect(mqtt3.binary(event)).toEqual(mqtt3.structured(event));
  });

  it("read NATS messages without headers as structured events", () => {
    expect(nats.toEvent({ data: serializeEvent(event) }).isOk()).toBe(true);
  });
});

describe("repeated member names in message bodies (#15)", () => {
  const repeat = (body: unknown): string => {
    const text = typeof body === "string" ? body : new TextDecoder().decode(body as Uint8Array);
    const out = text.replace('"site":{"id":"1710"}', '"site":{"id":"1710","id":"1711"}');
    expect(out).not.toBe(text);
    return out;
  };
  const withBody = <T extends object>(message: T, field: keyof T, bytes: boolean): T => {
    const text = repeat(message[field]);
    return { ...message, [field]: bytes ? new TextEncoder().encode(text) : text };
  };

  it.each([
    ["http", http, "body", "/body"],
    ["kafka", kafka, "value", "/value"],
    ["mqtt5", mqtt5, "payload", "/payload"],
    ["mqtt3", mqtt3, "payload", "/payload"],
    ["amqp", amqp, "body", "/body"],
    ["nats", nats, "data", "/data"],
  ] as const)("%s rejects them in binary and structured mode, from text and bytes", (name, binding, field, at) => {
    for (const bytes of [false, true]) {
      const structured = withBody(binding.structured(event) as never, field as never, bytes);
      expect(binding.toEvent(structured)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: `${at}/data/site/id` });
      if (name === "mqtt3") continue;
      const binary = withBody(binding.binary(event) as never, field as never, bytes);
      expect(binding.toEvent(binary)._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: `${at}/site/id` });
    }
  });

  it("http rejects them in a batch", () => {
    const message = http.batch([event, event]);
    const text = message.body as string;
    const site = '"site":{"id":"1710"}';
    const at = text.indexOf(site, text.indexOf('"specversion"', 1 + text.indexOf('"specversion"')));
    const body = `${text.slice(0, at)}"site":{"id":"1710","id":"1"}${text.slice(at + site.length)}`;
    expect(http.toEvent({ ...message, body })._unsafeUnwrapErr()).toMatchObject({ code: "duplicate_member", path: "/body/1/data/site/id" });
  });
});
