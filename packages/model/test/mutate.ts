import fc from "fast-check";

/** Values that probe the edges of the canonical formats, mixed with arbitrary JSON. */
const EDGE_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1, 1.5, -0.5, 2147483647, 2147483648, -2147483649, 4294967295, 4294967296, 2 ** 53, 1e21,
  "", " ", "x", " x", "x ", "a\u0000b", "a\u0085b", "\t", "0", "-0", "-0.000", "10.000", "1e3", "+1", "1.", ".5",
  "1.0000000000000001", "01", `${"9".repeat(31)}.${"9".repeat(15)}`, `1${"0".repeat(31)}`,
  "2026-03-01T06:00:00Z", "2026-03-01T06:00:00.123456789+01:00", "2026-03-01t06:00:00z", "2026-03-01 06:00:00Z",
  "2026-03-01T06:00Z", "2026-03-01T06:00:00", "2026-03-01T06:00:00+0100", "2026-02-30T06:00:00Z", "2024-02-29T12:00:00Z",
  "2023-02-29T12:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T23:59:60Z", "2026-03-01", "2026-02-30", "2024-02-29", "2026-3-1",
  "KGM", "kgm", "H87", "ABCD", "K", "DE", "de", "00012345678905", "0001234567890",
  "5b7c0b1e-3d6f-5a8e-9c1d-2f4e6a8b0c1d", "5b7c0b1e-3d6f-0a8e-9c1d-2f4e6a8b0c1d", "00000000-0000-0000-0000-000000000000",
  "released", "REL", "executing", "execute", "batch", "material", "order", "placed", "unrestricted", "blocked",
  "produced", "transferred", "adjusted", "increase", "good", "work_center", "sap", "com.acme.mes", "SAP", "ZZ1_Field",
  "\u{1F600}".repeat(64), "\u{1F600}".repeat(129), "a".repeat(128), "a".repeat(129), "\u{1F600}".repeat(4097),
  "\uD800", "é", {}, [], { kind: "batch" }, { kind: "nope" }, { value: "1", unit: "KGM" }, [{}], { a: { b: 1 } },
];

const edge = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer() },
);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every container path in a JSON value (arrays and objects), root first. */
function containers(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [];
  const out = [path];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) out.push(...containers(v, [...path, k]));
  return out;
}

function at(value: Json, path: (string | number)[]): Json {
  return path.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key] as Json, value);
}

const mutation = fc.record({
  op: fc.constantFrom("set", "set", "set", "delete", "add", "duplicate"),
  pick: fc.nat(),
  pickKey: fc.nat(),
  value: edge,
  key: fc.constantFrom("extra", "kind", "value", "unit", "__proto__", "x-y", "ZZ1_Custom", "id"),
});

/**
 * Mutated copies of a valid document: 1 to 3 edits (set a property or item to an edge value,
 * delete one, add one, duplicate an array item), so that most runs sit just beside the valid set,
 * where validators disagree if they ever do.
 */
export function mutated(base: unknown): fc.Arbitrary<unknown> {
  return fc.array(mutation, { minLength: 0, maxLength: 3 }).map((edits) => {
    const doc = JSON.parse(JSON.stringify(base)) as Json;
    for (const edit of edits) {
      // Each insertion gets its own copy: edge values are shared constants.
      const value = JSON.parse(JSON.stringify(edit.value)) as Json;
      const paths = containers(doc);
      const path = paths[edit.pick % paths.length] as (string | number)[];
      const node = at(doc, path) as Record<string, Json> | Json[];
      const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      const key = keys.length === 0 ? undefined : keys[edit.pickKey % keys.length];
      switch (edit.op) {
        case "set":
          if (key !== undefined) (node as Record<string | number, Json>)[key] = value;
          break;
        case "delete":
          if (key === undefined) break;
          if (Array.isArray(node)) node.splice(key as number, 1);
          else delete node[key as string];
          break;
        case "add":
          if (Array.isArray(node)) node.push(value);
          else Object.defineProperty(node, edit.key, { value, enumerable: true, configurable: true, writable: true });
          break;
        case "duplicate":
          if (Array.isArray(node) && key !== undefined) node.push(JSON.parse(JSON.stringify(node[key as number])) as Json);
          break;
      }
    }
    return doc;
  });
}
