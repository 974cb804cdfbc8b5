import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PACKML_STATES, toMappedState } from "./state-mapping.js";

describe("toMappedState", () => {
  it("maps every PackML leaf state; only Execute is executing", () => {
    for (const [n, state] of Object.entries(PACKML_STATES)) {
      const mapped = toMappedState({ kind: "packml" }, Number(n));
      expect(mapped?.packmlState).toBe(state.name);
      expect(mapped?.availability).toBe(state.name === "execute" ? "executing" : "not_executing");
    }
  });

  it("does not map the composite PackML states Running and Cleared", () => {
    expect(toMappedState({ kind: "packml" }, 18)).toBeUndefined();
    expect(toMappedState({ kind: "packml" }, 19)).toBeUndefined();
  });

  it("maps a PackML state machine's CurrentState name (its LocalizedText) to the leaf state", () => {
    expect(toMappedState({ kind: "packml" }, "Execute")).toEqual({ availability: "executing", packmlState: "execute", sourceState: { value: 6, text: "Execute" } });
    expect(toMappedState({ kind: "packml" }, "Resetting")?.packmlState).toBe("resetting");
    expect(toMappedState({ kind: "packml" }, "Running")).toBeUndefined();
    expect(toMappedState({ kind: "packml" }, "toString")).toBeUndefined();
  });

  it("maps Machinery item states", () => {
    expect(toMappedState({ kind: "machinery" }, 0)?.availability).toBe("not_available");
    expect(toMappedState({ kind: "machinery" }, 1)?.availability).toBe("out_of_service");
    expect(toMappedState({ kind: "machinery" }, 2)?.availability).toBe("not_executing");
    expect(toMappedState({ kind: "machinery" }, 3)).toEqual({ availability: "executing", sourceState: { value: 3, text: "Executing" } });
  });

  it("maps custom values by their string form and ignores inherited keys", () => {
    const mapping = { kind: "custom", values: { RUN: { availability: "executing", text: "Running" }, "0": { availability: "not_available" } } } as const;
    expect(toMappedState(mapping, "RUN")).toEqual({ availability: "executing", sourceState: { value: "RUN", text: "Running" } });
    expect(toMappedState(mapping, 0)).toEqual({ availability: "not_available", sourceState: { value: 0 } });
    expect(toMappedState(mapping, "toString")).toBeUndefined();
  });

  it("never throws on any input (property)", () => {
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom({ kind: "packml" } as const, { kind: "machinery" } as const), (raw, mapping) => {
        toMappedState(mapping, raw);
      }),
    );
  });
});
