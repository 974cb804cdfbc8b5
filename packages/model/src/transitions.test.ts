import { describe, expect, test } from "vitest";
import { workOrderStatusTransitions } from "./generated/catalog.js";
import { allowedTransitions, canTransition, canTransitionHold } from "./transitions.js";
import { compareRevisions, revisionToSequence } from "./revision.js";

describe("work order transitions come from the schema", () => {
  test("the life cycle forward", () => {
    expect(canTransition("planned", "released")).toBe(true);
    expect(canTransition("released", "in_progress")).toBe(true);
    expect(canTransition("in_progress", "on_hold")).toBe(true);
    expect(canTransition("on_hold", "in_progress")).toBe(true);
    expect(canTransition("in_progress", "completed")).toBe(true);
    expect(canTransition("completed", "closed")).toBe(true);
  });

  test("no way back from the end, and staying is no transition", () => {
    for (const to of Object.keys(workOrderStatusTransitions) as (keyof typeof workOrderStatusTransitions)[]) {
      expect(canTransition("closed", to)).toBe(false);
      expect(canTransition("cancelled", to)).toBe(false);
      expect(canTransition(to, to)).toBe(false);
    }
    expect(canTransition("planned", "completed")).toBe(false);
    expect(allowedTransitions("planned")).toEqual(["released", "cancelled"]);
  });

  test("holds", () => {
    expect(canTransitionHold("placed", "released")).toBe(true);
    expect(canTransitionHold("released", "placed")).toBe(false);
  });
});

describe("revisions", () => {
  test("compare as unsigned integers, and pad to a lexicographic sequence", () => {
    expect(compareRevisions("20260301061530", "9")).toBe(1);
    expect(compareRevisions("18446744073709551615", "18446744073709551614")).toBe(1);
    expect(compareRevisions("7", "7")).toBe(0);
    expect(revisionToSequence("42")).toBe("00000000000000000042");
    expect(revisionToSequence("9") < revisionToSequence("10")).toBe(true);
    expect(() => revisionToSequence("-1")).toThrow(TypeError);
  });
});
