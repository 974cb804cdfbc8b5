import { err } from "neverthrow";
import { describe, expect, it } from "vitest";
import { wireError, wireIssue } from "./errors.js";
import { guard } from "./payload.js";

describe("guard", () => {
  it("turns an input that cannot be read (a throwing getter) into invalid_envelope", () => {
    const payload = { d: {} };
    Object.defineProperty(payload.d, "ManufacturingOrder", { enumerable: true, get: () => { throw new RangeError("boom"); } });
    const result = guard(payload, () => {
      void (payload.d as Record<string, unknown>)["ManufacturingOrder"];
      return err(wireError([wireIssue("missing_property", "", undefined, "unreachable")]));
    });
    expect(result._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"(root) is missing: the payload could not be read as JSON data (RangeError)"`);
  });

  it("turns a revoked proxy into invalid_envelope", () => {
    const { proxy, revoke } = Proxy.revocable({ d: {} }, {});
    revoke();
    const result = guard(proxy, () => {
      void (proxy as Record<string, unknown>)["d"];
      return err(wireError([wireIssue("missing_property", "", undefined, "unreachable")]));
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
});
