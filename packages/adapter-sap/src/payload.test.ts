import { err } from "neverthrow";
import { describe, expect, it } from "vitest";
import { issue } from "@millwright/adapter-kit";
import { fixture, testConfig } from "../test/helpers.js";
import { wireError } from "./errors.js";
import { mapProductionOrder } from "./map-work-order.js";
import { guard } from "./payload.js";

describe("guard", () => {
  it("turns an input that cannot be read (a throwing getter) into invalid_envelope", () => {
    const payload = { d: {} };
    Object.defineProperty(payload.d, "ManufacturingOrder", { enumerable: true, get: () => { throw new RangeError("boom"); } });
    const result = guard(payload, () => {
      void (payload.d as Record<string, unknown>)["ManufacturingOrder"];
      return err(wireError([issue("missing_property", "", undefined, "unreachable")]));
    });
    expect(result._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"(root) is missing: the payload could not be read as JSON data (RangeError)"`);
  });

  it("turns a revoked proxy into invalid_envelope", () => {
    const { proxy, revoke } = Proxy.revocable({ d: {} }, {});
    revoke();
    const result = guard(proxy, () => {
      void (proxy as Record<string, unknown>)["d"];
      return err(wireError([issue("missing_property", "", undefined, "unreachable")]));
    });
    expect(result._unsafeUnwrapErr().code).toBe("invalid_envelope");
  });

  it("lets a programming error surface when the input is plain JSON data", () => {
    const payload = { d: { ManufacturingOrder: "1000123", to_ProductionOrderOperation: { results: [{ a: 1 }] } } };
    expect(() =>
      guard(payload, () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      }),
    ).toThrow(TypeError);
  });

  it("does not report a programming error inside a real mapper as bad input", () => {
    // A hand-made configuration without an ISO unit table: reading it is a TypeError in the mapper, and
    // the payload is a valid production order, so the error surfaces instead of becoming an issue.
    const broken = { ...testConfig(), isoUnits: undefined } as unknown as ReturnType<typeof testConfig>;
    const payload = fixture("production-order-1000123.json");
    expect(mapProductionOrder(payload, testConfig()).isOk()).toBe(true);
    expect(() => mapProductionOrder(payload, broken)).toThrow(TypeError);
  });
});
