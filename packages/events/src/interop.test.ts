import { CloudEvent, HTTP, Kafka, type Message } from "cloudevents";
import { describe, expect, it } from "vitest";
import { SOURCE, TYPE, sampleEvent, workOrder } from "../test/fixtures.js";
import { http } from "./bindings/http.js";
import { kafka, type KafkaMessage } from "./bindings/kafka.js";
import type { CanonicalEvent } from "./envelope.js";

// Interop with the official cloudevents SDK (v10.0.0), both directions, both modes.
const ours = sampleEvent();

function theirs(): CloudEvent<unknown> {
  const e = ours;
  return new CloudEvent({
    specversion: "1.0",
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject,
    time: "2026-02-25T19:05:12.123Z",
    datacontenttype: "application/json",
    dataschema: e.dataschema,
    partitionkey: e.partitionkey,
    sequence: e.sequence,
    data: workOrder(),
  });
}

function expectSameFact(sdkEvent: CloudEvent<unknown>): void {
  expect(sdkEvent).toMatchObject({ id: ours.id, source: SOURCE, type: TYPE, subject: ours.subject, partitionkey: ours.partitionkey, sequence: ours.sequence, dataschema: ours.dataschema });
  expect(new Date(sdkEvent.time as string).getTime()).toBe(new Date(ours.time as string).getTime());
  expect(sdkEvent.data).toEqual(ours.data);
}

describe("interop with the cloudevents SDK over HTTP", () => {
  it("their HTTP.toEvent reads our binary and structured messages", () => {
    for (const message of [http.binary(ours), http.structured(ours)]) {
      const sdkEvent = HTTP.toEvent({ headers: { ...message.headers }, body: message.body } as Message) as CloudEvent<unknown>;
      expectSameFact(sdkEvent);
    }
  });

  it("our http.toEvent reads their binary and structured messages", () => {
    for (const message of [HTTP.binary(theirs()), HTTP.structured(theirs())]) {
      const event = http.toEvent({ headers: message.headers as Record<string, string>, body: message.body as string })._unsafeUnwrap() as CanonicalEvent;
      expect(event.id).toBe(ours.id);
      expect(event.time).toBe("2026-02-25T19:05:12.123Z");
      expect(event.data).toEqual(ours.data);
    }
  });
});

describe("interop with the cloudevents SDK over Kafka", () => {
  it("their Kafka.toEvent reads our binary and structured messages", () => {
    for (const message of [kafka.binary(ours), kafka.structured(ours)]) {
      const sdkEvent = Kafka.toEvent({ ...message, body: message.value } as never) as CloudEvent<unknown>;
      expectSameFact(sdkEvent);
    }
  });

  it("our kafka.toEvent reads their binary and structured messages", () => {
    for (const message of [Kafka.binary(theirs()), Kafka.structured(theirs())]) {
      // Their binary serializer leaves the data as an object; on the wire it is JSON text.
      const value = typeof message.value === "string" ? message.value : JSON.stringify(message.value);
      const record: KafkaMessage = { key: message.key ?? null, headers: message.headers as Record<string, string>, value };
      const event = kafka.toEvent(record)._unsafeUnwrap();
      expect(event.id).toBe(ours.id);
      expect(event.partitionkey).toBe(ours.partitionkey);
      expect(event.data).toEqual(ours.data);
    }
  });
});
