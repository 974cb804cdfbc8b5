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
