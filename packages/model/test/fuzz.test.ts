import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { entityNames, MAX_ISSUES, parseEntity } from "../src/index.js";
import { clone, validExamples } from "./fixtures.js";
import { mutated } from "./mutate.js";

function deep(depth: number): unknown {
  let node: unknown = "leaf";
  for (let i = 0; i < depth; i++) node = { orderId: node, items: [node] };
  return node;
}

function cyclic(): unknown {
  const a: Record<string, unknown> = { orderId: "1", site: { id: "1710" } };
  a["self"] = a;
  (a["site"] as Record<string, unknown>)["parent"] = a;
  return a;
}

const hostile: ReadonlyArray<[string, () => unknown]> = [
  ["a cyclic object", cyclic],
  ["a cyclic object in an allowed place", () => {
    const w = clone(validExamples("WorkOrder")[0]!.json) as Record<string, any>;
    w.operations.push(w);
    w.extensions = { sap: { loop: w } };
    return w;
  }],
  ["nesting 100,000 levels deep", () => deep(100_000)],
  ["a 5 MB string", () => ({ orderId: "x".repeat(5_000_000) })],
  ["an array of 200,000 bad items", () => ({ operations: new Array(200_000).fill({}) })],
  ["__proto__, constructor and prototype keys", () => JSON.parse('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}},"prototype":3}')],
  ["a null-prototype object", () => Object.assign(Object.create(null), { orderId: "1" })],
  ["class instances and exotic values", () => ({ orderId: new Date(), site: new Map(), material: new Set([1]), revision: 10n, status: Symbol("s"), plannedQuantity: () => 1 })],
  ["a Proxy whose traps throw", () => new Proxy({}, { ownKeys: () => { throw new Error("trap"); }, get: () => { throw new Error("trap"); }, has: () => { throw new Error("trap"); } })],
  ["a revoked Proxy", () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; }],
  ["a getter that throws", () => Object.defineProperty({}, "orderId", { enumerable: true, get() { throw new RangeError("no"); } })],
  ["typed arrays and buffers", () => ({ orderId: new Uint8Array(4), operations: new ArrayBuffer(8) })],
];

// Whatever the input, parseX returns a Result: it never throws, and its error is JSON-serializable
// enough to log (messages are strings).
describe.each(entityNames)("%s: parse never throws", (entity) => {
  test.each(hostile)("%s", (_name, make) => {
    const result = parseEntity(entity, make());
    expect(result.isErr()).toBe(true);
    const error = result._unsafeUnwrapErr();
    expect(error.issues.filter((issue) => typeof issue.message !== "string")).toEqual([]);
    // An error lists at most MAX_ISSUES issues and counts the rest: 200,000 bad items make ajv
    // report 400,000 errors, which take 1-3 s to produce on a loaded machine. "Never throws" is
    // what is tested here, not speed.
    expect(error.issues.length).toBeLessThanOrEqual(MAX_ISSUES);
  }, 20_000);

  test("arbitrary values and mutated documents", () => {
    const examples = validExamples(entity).map((e) => e.json);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, maxDepth: 6 }),
          fc.constantFrom(...examples).chain((base) => mutated(base)),
        ),
        (input) => {
          let result: ReturnType<typeof parseEntity> | undefined;
          expect(() => (result = parseEntity(entity, input))).not.toThrow();
          expect(result?.isOk() || result?.isErr()).toBe(true);
          if (result?.isErr()) expect(result.error.issues.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
