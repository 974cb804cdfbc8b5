import { describe, expect, test } from "vitest";
import { clone, validExamples } from "../test/fixtures.js";
import { MAX_ISSUES } from "./errors.js";
import {
  parseBatch,
  parseEntity,
  parseMachineState,
  parseMaterialMovement,
  parseProductionCount,
  parseQualityHold,
  parseWorkOrder,
} from "./parse.js";

const workOrder = () => clone(validExamples("WorkOrder").find((e) => e.name.startsWith("sap-production-order"))!.json) as Record<string, any>;
const movement = () => clone(validExamples("MaterialMovement")[0]!.json) as Record<string, any>;

describe("parseWorkOrder", () => {
  test("returns the input itself, typed, when valid", () => {
    const input = workOrder();
    const result = parseWorkOrder(input);
    expect(result.isOk()).toBe(true);
    expect(result._unsafeUnwrap()).toBe(input);
  });

  test.each([null, 42, "WorkOrder", [], true, undefined])("rejects %j as a whole", (input) => {
    const issues = parseWorkOrder(input)._unsafeUnwrapErr().issues;
    expect(issues.map((i) => [i.code, i.path])).toEqual([["invalid_type", ""]]);
  });

  test("lists every issue with code, path, value and rule", () => {
    const input = workOrder();
    delete input.material;
    input.colour = "blue";
    input.plannedQuantity.value = "1e3";
    input.operations[1].status = "REL";
    const error = parseWorkOrder(input)._unsafeUnwrapErr();
    expect(error.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "missing_property",
          "message": "/material is required but missing",
          "path": "/material",
          "rule": "required",
        },
        {
          "code": "unknown_property",
          "message": "/colour is not a known property (unknown properties are rejected; site-specific fields go in extensions)",
          "path": "/colour",
          "rule": "additionalProperties: false",
          "value": "blue",
        },
        {
          "code": "invalid_format",
          "message": "/plannedQuantity/value: "1e3" is not in the required format (Decimal: pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$)",
          "path": "/plannedQuantity/value",
          "rule": "Decimal: pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$",
          "value": "1e3",
        },
        {
          "code": "invalid_value",
          "message": "/operations/1/status: "REL" is not an allowed value (WorkOrderStatus: one of "planned", "released", "in_progress", "on_hold", "completed", "closed", "cancelled")",
          "path": "/operations/1/status",
          "rule": "WorkOrderStatus: one of "planned", "released", "in_progress", "on_hold", "completed", "closed", "cancelled"",
          "value": "REL",
        },
      ]
    `);
    expect(error.message).toMatchInlineSnapshot(`"WorkOrder is invalid: /material is required but missing; /colour is not a known property (unknown properties are rejected; site-specific fields go in extensions); /plannedQuantity/value: "1e3" is not in the required format (Decimal: pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$) (+1 more)"`);
  });

  test("semantic rules run once the schema passes", () => {
    const input = workOrder();
    input.schedule = { plannedStart: "2026-03-02T06:00:00+01:00", plannedEnd: "2026-03-02T04:30:00Z" };
    input.operations[2].operationId = input.operations[0].operationId;
    input.components[0].operationId = "9999";
    input.confirmedScrapQuantity = { value: "-1", unit: "KGM" };
    const error = parseWorkOrder(input)._unsafeUnwrapErr();
    expect(error.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/confirmedScrapQuantity/value: "-1" is negative; canonical quantities are not negative (the direction is said by the entity)",
        "/confirmedScrapQuantity/unit: "KGM" differs from /plannedQuantity/unit "H87"; both must be in one unit",
        "/schedule/plannedEnd: "2026-03-02T04:30:00Z" is before /schedule/plannedStart "2026-03-02T06:00:00+01:00"",
        "/operations/2/operationId: "0010" is used by an earlier operation",
        "/components/0/operationId: "9999" is not an operation of this order",
      ]
    `);
  });

  test("end equal to start across offsets is not before it", () => {
    const input = workOrder();
    input.schedule = { plannedStart: "2026-03-02T07:00:00+01:00", plannedEnd: "2026-03-02T06:00:00Z" };
    expect(parseWorkOrder(input).isOk()).toBe(true);
  });

  test("caps the issues of a hostile input and says so", () => {
    const input = workOrder();
    input.operations = Array.from({ length: 500 }, () => ({}));
    const error = parseWorkOrder(input)._unsafeUnwrapErr();
    expect(error.issues).toHaveLength(MAX_ISSUES);
    expect(error.truncated).toBe(true);
    expect(error.message).toMatch(/\(\+\d+ more\)$/);
  });

  test("an input whose getter throws is reported, not thrown", () => {
    const input = workOrder();
    Object.defineProperty(input, "orderId", { enumerable: true, get: () => { throw new Error("boom"); } });
    const error = parseWorkOrder(input)._unsafeUnwrapErr();
    expect(error.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "unreadable_input",
          "message": "the input could not be read as JSON data: boom",
          "path": "",
          "rule": "the input is plain JSON data",
        },
      ]
    `);
  });

  test("a __proto__ key from JSON.parse is an unknown property, not a prototype", () => {
    const input = JSON.parse(JSON.stringify(workOrder()).replace(/^\{/, '{"__proto__":{"polluted":true},')) as unknown;
    const issues = parseWorkOrder(input)._unsafeUnwrapErr().issues;
    expect(issues.map((i) => [i.code, i.path])).toEqual([["unknown_property", "/__proto__"]]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("parseMaterialMovement", () => {
  test("from and to follow the kind", () => {
    const input = movement();
    input.kind = "transferred";
    input.from = clone(input.to ?? input.from);
    input.to = clone(input.from);
    delete input.direction;
    const error = parseMaterialMovement(input)._unsafeUnwrapErr();
    expect(error.issues.map((i) => `${i.code} ${i.path}: ${i.message}`)).toMatchInlineSnapshot(`
      [
        "same_location /to: /to: a transferred movement must end at another place than /from (site, storage location, warehouse or bin)",
      ]
    `);
  });
});

describe("other entities", () => {
  test("a released hold needs a disposition consistent with the release", () => {
    const hold = clone(validExamples("QualityHold").find((e) => (e.json as { status: string }).status === "released")!.json) as Record<string, any>;
    hold.disposition.decision = "scrap";
    expect(parseQualityHold(hold)._unsafeUnwrapErr().issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/disposition/decision: "scrap" contradicts status "released" (allowed: use, downgrade, rework)",
      ]
    `);
    delete hold.disposition;
    expect(parseQualityHold(hold)._unsafeUnwrapErr().issues.map((i) => i.code)).toEqual(["missing_disposition"]);
  });

  test("PackML execute means executing", () => {
    const state = clone(validExamples("MachineState").find((e) => (e.json as { packmlState?: string }).packmlState === "execute")!.json) as Record<string, any>;
    state.availability = "not_executing";
    expect(parseMachineState(state)._unsafeUnwrapErr().issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/availability: "not_executing" contradicts packmlState "execute", which is executing",
      ]
    `);
  });

  test("a counter that falls without a reset or rollover", () => {
    const count = clone(validExamples("ProductionCount").find((e) => Array.isArray((e.json as { counters?: unknown[] }).counters))!.json) as Record<string, any>;
    count.counters[0] = { ...count.counters[0], from: 100, to: 90, reset: false, rollover: false };
    expect(parseProductionCount(count)._unsafeUnwrapErr().issues.map((i) => `${i.code} ${i.path}`)).toContain("counter_decreased /counters/0/to");
  });

  test("a batch is not its own input", () => {
    const batch = clone(validExamples("Batch")[0]!.json) as Record<string, any>;
    batch.inputs = [{ batch: { material: batch.material, batchId: batch.batchId } }];
    expect(parseBatch(batch)._unsafeUnwrapErr().issues.map((i) => i.code)).toEqual(["self_reference"]);
  });

  test("parseEntity dispatches by name and refuses an unknown name loudly", () => {
    expect(parseEntity("Batch", clone(validExamples("Batch")[0]!.json)).isOk()).toBe(true);
    expect(() => parseEntity("Nope" as "Batch", {})).toThrow(/unknown entity name "Nope"/);
  });
});
