import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkWorkflow, defineWorkflow, onBreach, onEvent, parseDuration } from "./define.js";
import { instanceIdOf, stepIdempotencyKey } from "./ids.js";
import { toJsonValue } from "./json.js";

describe("parseDuration", () => {
  it("reads milliseconds and integer-unit strings", () => {
    expect(parseDuration("500ms")._unsafeUnwrap()).toBe(500);
    expect(parseDuration("30s")._unsafeUnwrap()).toBe(30_000);
    expect(parseDuration("15m")._unsafeUnwrap()).toBe(900_000);
    expect(parseDuration("4h")._unsafeUnwrap()).toBe(14_400_000);
    expect(parseDuration("2d")._unsafeUnwrap()).toBe(172_800_000);
    expect(parseDuration(0)._unsafeUnwrap()).toBe(0);
    expect(parseDuration(1500)._unsafeUnwrap()).toBe(1500);
  });

  it("refuses anything else, naming the field, the value and the rule", () => {
    expect(parseDuration("15 minutes", "deadline.after")._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_duration",
        "message": "deadline.after is "15 minutes": a duration string is an integer and a unit, ms, s, m, h or d, such as "30s", "15m", "4h"",
        "path": "deadline.after",
        "value": "15 minutes",
      }
    `);
    expect(parseDuration("1.5h")._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"duration is "1.5h": a duration string is an integer and a unit, ms, s, m, h or d, such as "30s", "15m", "4h""`);
    expect(parseDuration(-1)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"duration is -1: a number duration is whole milliseconds, an integer ≥ 0"`);
    expect(parseDuration(2.5)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"duration is 2.5: a number duration is whole milliseconds, an integer ≥ 0"`);
    expect(parseDuration(null)._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"duration is null: a duration is a number of milliseconds or a string such as "30s", "15m", "4h""`);
    expect(parseDuration("999999999999999d")._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"duration is "999999999999999d": the duration is too long"`);
  });

  it("never throws, and round-trips every integer of every unit", () => {
    fc.assert(fc.property(fc.anything(), (value) => void parseDuration(value)));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(["ms", 1], ["s", 1000], ["m", 60_000], ["h", 3_600_000], ["d", 86_400_000]), (n, [unit, ms]) => {
        expect(parseDuration(`${n}${unit as string}`)._unsafeUnwrap()).toBe(n * (ms as number));
      }),
    );
  });
});

describe("defineWorkflow", () => {
  const run = async () => null;

  it("checks every field and reports every issue at once", () => {
    const checked = checkWorkflow({ name: "Quality Hold", version: 0, deadline: { after: "soon" as never, action: "panic" as never }, start: [{ kind: "cron" } as never], run });
    expect(checked._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_definition",
        "issues": [
          {
            "code": "invalid_name",
            "message": "name is "Quality Hold": a workflow name is 1 to 100 of a-z, 0-9 and -, starting with a letter or digit",
            "path": "name",
            "value": "Quality Hold",
          },
          {
            "code": "invalid_version",
            "message": "version is 0: a version is an integer ≥ 1",
            "path": "version",
            "value": 0,
          },
          {
            "code": "invalid_trigger",
            "message": "start[0] is {"kind":"cron"}: a trigger is made by onEvent(…) or onBreach(…)",
            "path": "start[0]",
            "value": {
              "kind": "cron",
            },
          },
          {
            "code": "invalid_duration",
            "message": "deadline.after is "soon": a duration string is an integer and a unit, ms, s, m, h or d, such as "30s", "15m", "4h"",
            "path": "deadline.after",
            "value": "soon",
          },
          {
            "code": "invalid_deadline",
            "message": "deadline.action is "panic": a deadline action is one of escalate, compensate, escalate-and-compensate",
            "path": "deadline.action",
            "value": "panic",
          },
        ],
        "message": "workflow "Quality Hold" is invalid: name is "Quality Hold": a workflow name is 1 to 100 of a-z, 0-9 and -, starting with a letter or digit; version is 0: a version is an integer ≥ 1; start[0] is {"kind":"cron"}: a trigger is made by onEvent(…) or onBreach(…); deadline.after is "soon": a duration string is an integer and a unit, ms, s, m, h or d, such as "30s", "15m", "4h"; deadline.action is "panic": a deadline action is one of escalate, compensate, escalate-and-compensate",
      }
    `);
    expect(() => defineWorkflow({ name: "ok", version: 1.5, run })).toThrow("workflow \"ok\" is invalid: version is 1.5: a version is an integer ≥ 1");
    expect(() => defineWorkflow({ name: "ok", version: 1, run: "run" as never })).toThrow("run is \"run\": run is the workflow body");
    expect(() => defineWorkflow({ name: "ok", version: 1, deadline: { after: 0, action: "escalate" }, run })).toThrow("deadline.after is 0: a deadline is longer than 0");
  });

  it("freezes a valid definition with its deadline in milliseconds and its triggers", () => {
    const def = defineWorkflow({
      name: "quality-hold",
      version: 3,
      deadline: { after: "4h", action: "escalate-and-compensate" },
      start: [
        onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.subject ?? e.id, input: (e) => ({ hold: e.data.holdId }) }),
        onBreach("hold-not-reflected-in-wms", { input: (f) => ({ hold: f.key }) }),
      ],
      run,
    });
    expect(def.deadlineMs).toBe(14_400_000);
    expect(Object.isFrozen(def)).toBe(true);
    expect(def.start.map((t) => t.kind)).toEqual(["event", "breach"]);
    const [event, breach] = def.start;
    const placed = { specversion: "1.0", id: "e1", source: "urn:x", type: "dev.millwright.qualityhold.placed.v1", subject: "QH-1", data: { holdId: "QH-1" } } as never;
    expect(event?.kind === "event" && [event.when(placed), event.key(placed), event.input(placed)]).toEqual([true, "QH-1", { hold: "QH-1" }]);
    const plain = onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.data.holdId });
    expect(plain.input(placed)).toEqual({ holdId: "QH-1" });
    expect(event?.kind === "event" && event.when({ ...(placed as object), type: "dev.millwright.qualityhold.released.v1" } as never)).toBe(false);
    const finding = { kind: "breached", rule: "hold-not-reflected-in-wms", key: "QH-2" } as never;
    expect(breach?.kind === "breach" && [breach.key(finding), breach.input(finding)]).toEqual(["QH-2", { hold: "QH-2" }]);
  });
});

describe("ids and JSON", () => {
  it("derives instance ids and idempotency keys deterministically, distinct per part", () => {
    expect(instanceIdOf("quality-hold", "QH-1")).toBe(instanceIdOf("quality-hold", "QH-1"));
    expect(stepIdempotencyKey("quality-hold", "QH-1", "block-in-erp")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const keys = new Set([
      stepIdempotencyKey("quality-hold", "QH-1", "block-in-erp"),
      stepIdempotencyKey("quality-hold", "QH-1", "block-in-erp", "compensation"),
      stepIdempotencyKey("quality-hold", "QH-1", "block-in-wms"),
      stepIdempotencyKey("quality-hold", "QH-1block", "-in-erp"),
      instanceIdOf("quality-hold", "QH-1"),
    ]);
    expect(keys.size).toBe(5);
  });

  it("accepts JSON and names the first part that is not", () => {
    expect(toJsonValue(undefined)).toEqual({ ok: true, value: null });
    expect(toJsonValue({ a: [1, "x", null, { b: true }], skip: undefined })).toEqual({ ok: true, value: { a: [1, "x", null, { b: true }] } });
    expect(toJsonValue({ a: [1, Number.NaN] })).toEqual({ ok: false, path: "value.a[1]", problem: "NaN is not a JSON number" });
    expect(toJsonValue({ m: new Map() })).toEqual({ ok: false, path: "value.m", problem: "a Map is not JSON" });
    expect(toJsonValue([undefined])).toEqual({ ok: false, path: "value[0]", problem: "undefined is not JSON" });
    expect(toJsonValue({ n: 1n })).toEqual({ ok: false, path: "value.n", problem: "a bigint is not JSON" });
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(toJsonValue(cycle)).toEqual({ ok: false, path: "value.self", problem: "a cycle is not JSON" });
    expect(toJsonValue(JSON.parse('{"__proto__":{"polluted":1}}'))).toEqual({ ok: true, value: JSON.parse('{"__proto__":{"polluted":1}}') });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    fc.assert(fc.property(fc.jsonValue(), (value) => void expect(toJsonValue(value)).toEqual({ ok: true, value: JSON.parse(JSON.stringify(value)) })));
  });
});
