import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { describe, expect, it } from "vitest";
import { machineStateEvent, workOrderEvents } from "../test/fixtures.js";
import { createTopicTemplate, DEFAULT_TOPIC_TEMPLATE, normalizeLevel, topicValuesOf } from "./topic.js";

describe("unified-namespace topics", () => {
  const uns = createTopicTemplate(DEFAULT_TOPIC_TEMPLATE)._unsafeUnwrap();

  it("builds the topic from the ISA-95 path of the event, normalized", () => {
    expect(uns.toTopic(topicValuesOf(machineStateEvent(1), "ACME Corp"))._unsafeUnwrap()).toBe("acme-corp/1710/area-fin/pack1/machinestate/changed");
    expect(uns.toTopic(topicValuesOf(workOrderEvents(1)[0]!, "acme"))._unsafeUnwrap()).toBe("acme/1710/workorder/completed");
    const custom = createTopicTemplate("Plants/{site}/{line}/state")._unsafeUnwrap();
    expect(custom.toTopic({ site: " 1710 ", line: "Packing  Line 1" })._unsafeUnwrap()).toBe("plants/1710/packing-line-1/state");
  });

  it("refuses empty levels, wildcards, reserved levels and bad templates", () => {
    expect(uns.toTopic({ enterprise: "acme", site: "", entity: "a", action: "b" })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_topic",
        "message": "a topic level is not empty",
        "path": "site",
        "value": "",
      }
    `);
    expect(uns.toTopic({ enterprise: "acme", site: "17+10", entity: "a", action: "b" })._unsafeUnwrapErr().message).toBe("a topic level holds no wildcard (+, #), no / and no NUL");
    expect(uns.toTopic({ enterprise: "acme", site: "1710", path: ["a/b"], entity: "a", action: "b" }).isErr()).toBe(true);
    expect(uns.toTopic({ enterprise: "acme", entity: "a", action: "b" })._unsafeUnwrapErr().message).toBe("the template needs exactly one level for {site}");
    expect(normalizeLevel("$SYS", "x")._unsafeUnwrapErr().code).toBe("invalid_topic");
    expect(createTopicTemplate("a//b").isErr()).toBe(true);
    expect(createTopicTemplate("a/#").isErr()).toBe(true);
    expect(createTopicTemplate("a/x{site}").isErr()).toBe(true);
    expect(createTopicTemplate("{a?}/{b*}").isErr()).toBe(true);
  });
});

describe("normalizeLevel", () => {
  /** The rule as documented, without the fast path for plain levels. */
  function reference(value: string): string | undefined {
    const level = value.trim().toLowerCase().replace(/\s+/g, "-");
    return level === "" || /[+#/\u0000]/.test(level) || level.startsWith("$") ? undefined : level;
  }

  it("gives what the documented rule gives, on plain levels and every other kind", () => {
    const alphabet = ["a", "Z", "0", "9", "_", ".", ":", "-", " ", "\t", "+", "#", "/", "\u0000", "$", "é", "İ", "ß", "\u00a0", "\u2028"];
    // A seeded generator (mulberry32): the same 20,000 strings on every run.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const samples = ["PACK1", "1710", "Area-Fin", "line.7", "urn:x", "$SYS", "", " ", "a b", "A+B"];
    for (let i = 0; i < 20_000; i++) {
      const length = Math.floor(random() * 8);
      samples.push(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""));
    }
    for (const value of samples) {
      const got = normalizeLevel(value, "x");
      expect(got.isOk() ? got.value : undefined, JSON.stringify(value)).toBe(reference(value));
    }
  });
});

describe("the site level of stock, hold and alignment facts", () => {
  const uns = createTopicTemplate(DEFAULT_TOPIC_TEMPLATE)._unsafeUnwrap();
  const example = (folder: string, file: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "schemas", "examples", folder, file), "utf8")) as Record<string, unknown>;
  const eventOf = (type: CanonicalEvent["type"], data: Record<string, unknown>): CanonicalEvent =>
    createEvent({ type, source: "urn:millwright:test", time: "2026-03-02T08:00:00Z", data: data as never })._unsafeUnwrap() as CanonicalEvent;
  const topicOf = (event: CanonicalEvent) => uns.toTopic(topicValuesOf(event, "acme"));

  it("a movement's site is its source location's, else its destination's", () => {
    const issue = example("material-movement", "goods-issue-to-order.json");
    expect(topicOf(eventOf("dev.millwright.materialmovement.posted.v1", issue))._unsafeUnwrap()).toBe("acme/1710/materialmovement/posted");
    const receipt = example("material-movement", "goods-receipt-from-production.json");
    (receipt["to"] as { site: { id: string } }).site.id = "1010";
    expect(topicOf(eventOf("dev.millwright.materialmovement.posted.v1", receipt))._unsafeUnwrap()).toBe("acme/1010/materialmovement/posted");
    const transfer = example("material-movement", "transfer-between-storage-locations.json");
    (transfer["to"] as { site: { id: string } }).site.id = "1010";
    expect(topicValuesOf(eventOf("dev.millwright.materialmovement.posted.v1", transfer), "acme").site).toBe("1710");
  });

  it("a hold's site is its scope's: the site, the held batch's site or the held location's; an order's output has none", () => {
    const material = example("quality-hold", "material-hold-released-for-use.json");
    expect(topicOf(eventOf("dev.millwright.qualityhold.released.v1", material))._unsafeUnwrap()).toBe("acme/1710/qualityhold/released");
    const batch = example("quality-hold", "batch-hold-placed-on-production-receipt.json");
    expect(topicOf(eventOf("dev.millwright.qualityhold.placed.v1", batch))._unsafeUnwrap()).toBe("acme/1710/qualityhold/placed");
    const atLocation = example("quality-hold", "batch-hold-released-as-downgrade.json");
    expect(topicOf(eventOf("dev.millwright.qualityhold.released.v1", atLocation))._unsafeUnwrap()).toBe("acme/ham1/qualityhold/released");
    const order = example("quality-hold", "order-output-hold-placed-recorded-only.json");
    expect(topicOf(eventOf("dev.millwright.qualityhold.placed.v1", order))._unsafeUnwrapErr().message).toBe("the template needs exactly one level for {site}");
  });

  it("an alignment's site is its site identifier", () => {
    const finding = example("alignment", "order-not-started-by-mes.json");
    expect(topicOf(eventOf("dev.millwright.alignment.breached.v1", finding))._unsafeUnwrap()).toBe("acme/1710/alignment/breached");
  });
});
