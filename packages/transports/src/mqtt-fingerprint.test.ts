import { hash } from "node:crypto";
import { createEvent, mqtt5, parseMqtt5Message, type CanonicalEvent, type Mqtt5Message } from "@millwright/events";
import { fingerprint } from "@millwright/idempotency";
import { describe, expect, it } from "vitest";
import { machineStateEvent, workOrderEvents } from "../test/fixtures.js";

/** An event as the MQTT publisher sends it in binary mode, with the payload as bytes, as mqtt.js hands it over. */
function received(event: CanonicalEvent): Mqtt5Message {
  const m = mqtt5.binary(event);
  return { payload: Buffer.from(m.payload), properties: m.properties };
}

/** The fingerprint the MQTT subscriber passes to the inbox, or undefined when it passes none. */
function fingerprintFromPayload(message: Mqtt5Message): string | undefined {
  const text = parseMqtt5Message(message)._unsafeUnwrap().canonicalData();
  return text === undefined ? undefined : hash("sha256", text, "hex");
}

describe("the fingerprint the MQTT subscriber takes from the payload", () => {
  it("is the inbox's own fingerprint of the data for the publisher's events", () => {
    for (const event of [...workOrderEvents(5), machineStateEvent(1), machineStateEvent(2)]) {
      const print = fingerprintFromPayload(received(event));
      expect(print).toBeDefined();
      expect(print).toBe(fingerprint(event.data)._unsafeUnwrap());
    }
  });

  it("is the inbox's own fingerprint whenever it is given, for any text and numbers in the data", () => {
    const [base] = workOrderEvents(1);
    const data = base!.data as unknown as Record<string, unknown>;
    const material = data["material"] as Record<string, unknown>;
    let given = 0;
    let events = 0;
    // A seeded generator (the package has no fast-check): ASCII, escapes, non-ASCII and lone
    // surrogates in a string of the data, numbers inside and outside -9..99.
    let seed = 20261208;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const units = ["a", "Z", " ", "-", '"', "\\", "\n", "\u0001", "é", "€", "😀", "\ud800", "/", "~"];
    for (let run = 0; run < 400; run++) {
      let description = "";
      const length = next(30);
      for (let i = 0; i < length; i++) description += units[next(next(2) === 0 ? 4 : units.length)];
      const priority = next(2000) - 20;
      const made = createEvent({ type: base!.type, source: base!.source, data: { ...data, priority, material: { ...material, description } } as never, time: "2026-02-25T20:05:12+01:00" });
      if (made.isErr()) continue;
      events++;
      const event = made.value;
      const print = fingerprintFromPayload(received(event));
      if (print === undefined) continue;
      given++;
      expect(print).toBe(fingerprint(event.data)._unsafeUnwrap());
    }
    expect(events).toBeGreaterThan(100);
    expect(given).toBeGreaterThan(10);
  });
});
