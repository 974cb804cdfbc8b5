import { describe, expect, test } from "vitest";
import { entityNames, parseEntity } from "../src/index.js";
import { invalidExamples, validExamples } from "./fixtures.js";

// The language-neutral examples in schemas/ are the shared fixtures: every valid one parses, every
// invalid one fails with exactly the issues it lists (no fewer, no more).
describe.each(entityNames)("%s examples", (entity) => {
  test.each(validExamples(entity).map((e) => [e.name, e.json] as const))("valid: %s", (_name, json) => {
    const result = parseEntity(entity, json);
    expect(result.isOk() ? [] : result.error.issues).toEqual([]);
    expect(result._unsafeUnwrap()).toBe(json);
  });

  test.each(invalidExamples(entity).map((e) => [e.name, e.json] as const))("invalid: %s", (_name, example) => {
    const result = parseEntity(entity, example.data);
    expect(result.isErr()).toBe(true);
    const got = result._unsafeUnwrapErr().issues.map((i) => ({ code: i.code, path: i.path }));
    expect(got).toEqual(expect.arrayContaining(example.expected));
    expect(got).toHaveLength(example.expected.length);
  });
});
