import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { entityNames, loadProfile, parseEntity, type EntityName } from "../src/index.js";
import { formats } from "../src/formats.js";
import { entityPaths } from "../src/generated/paths.js";
import { validExamples } from "./fixtures.js";

// Random plant profiles against random records: whatever a profile says, every record it accepts
// is one the global contract accepts (a global consumer reads every profiled record), it never
// changes what the global contract says about a record, and its namespace schemas mean what
// JSON Schema says they mean (checked against ajv).

const NAMESPACES = ["plant", "sap", "com.acme.mes"] as const;
const FIELDS = ["shift", "crew", "ZZ1_Line", "a"] as const;
const TYPES = ["string", "number", "integer", "boolean", "null"] as const;

const scalar = fc.oneof(
  fc.constantFrom("A", "B", "1-SHIFT", "2026-03-02", "2026-03-02T06:00:00Z", "", "abc", "ÄÖ😀"),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -30, max: 30 }),
  fc.double({ min: -30, max: 30, noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
// Values the global contract refuses in an extension, so that some records are globally invalid.
const globallyInvalid = fc.constantFrom<unknown>({ nested: 1 }, [1, 2], "x".repeat(4097));

const fieldKeywords = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPES), fc.uniqueArray(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 3 })),
  enum: fc.array(scalar, { minLength: 1, maxLength: 4 }),
  const: scalar,
  pattern: fc.constantFrom("^[A-Z]+$", "^\\d{1,3}$", "SHIFT", "^.{0,3}$"),
  format: fc.constantFrom("date", "date-time", "uuid"),
  minLength: fc.integer({ min: 0, max: 4 }),
  maxLength: fc.integer({ min: 0, max: 6 }),
  minimum: fc.integer({ min: -20, max: 20 }),
  maximum: fc.integer({ min: -20, max: 20 }),
  exclusiveMinimum: fc.double({ min: -20, max: 20, noNaN: true }),
  exclusiveMaximum: fc.double({ min: -20, max: 20, noNaN: true }),
  description: fc.constant("a field"),
});
// A few keywords per field, as plants write them; with all of them at once nearly every field is unsatisfiable.
const fieldSchema = fc
  .tuple(fieldKeywords, fc.subarray(["type", "enum", "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "description"] as const, { maxLength: 3 }))
  .map(([all, keys]) => Object.fromEntries(keys.map((k) => [k, all[k]])) as Partial<typeof all>);

const namespaceSchema = fc.record(
  {
    type: fc.constant("object" as const),
    properties: fc.dictionary(fc.constantFrom(...FIELDS), fieldSchema, { maxKeys: 3 }),
    required: fc.uniqueArray(fc.constantFrom(...FIELDS), { maxLength: 2 }),
    additionalProperties: fc.oneof(fc.boolean(), fieldSchema),
  },
  { requiredKeys: ["type"] },
);

const examples = new Map(entityNames.map((e) => [e, validExamples(e).map((x) => JSON.stringify(x.json))]));
const example = (entity: EntityName, pick: number): Record<string, unknown> => {
  const list = examples.get(entity)!;
  return JSON.parse(list[pick % list.length]!) as Record<string, unknown>;
};

const siteEntities = entityNames.filter((e) => entityPaths[e]["/site/id"] === "scalar");

const requirement = (namespaces: readonly string[]) =>
  fc.constantFrom(...entityNames).chain((entity) => {
    const paths = [
      ...Object.entries(entityPaths[entity]).filter(([, kind]) => kind !== "array").map(([p]) => p),
      ...(entityPaths[entity]["/extensions"] === undefined ? [] : namespaces.flatMap((ns) => [`/extensions/${ns}`, ...FIELDS.map((f) => `/extensions/${ns}/${f}`)])),
    ];
    return fc.record(
      {
        id: fc.constantFrom("r1", "r2", "r3"),
        entity: fc.constant(entity),
        when: siteEntities.includes(entity) ? fc.constantFrom({ "/site/id": "1710" }, { "/site/id": ["1710", "1010"] }, {}) : fc.constant({}),
        require: fc.uniqueArray(fc.constantFrom(...paths), { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: ["id", "entity", "require"] },
    );
  });

const profileDocument = fc
  .dictionary(fc.constantFrom(...NAMESPACES), namespaceSchema, { maxKeys: 2 })
  .chain((extensions) =>
    fc.record({
      id: fc.constant("plant-x"),
      version: fc.constant("1.0.0"),
      extensions: fc.constant(extensions),
      requirements: fc.uniqueArray(requirement(Object.keys(extensions)), { maxLength: 3, selector: (r) => r.id }),
    }),
  );

const record = fc
  .record({
    entity: fc.constantFrom(...entityNames),
    pick: fc.nat(),
    site: fc.constantFrom("1710", "1010", undefined),
    extensions: fc.option(fc.dictionary(fc.constantFrom(...NAMESPACES, "other"), fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof({ weight: 12, arbitrary: scalar }, { weight: 1, arbitrary: globallyInvalid }), { maxKeys: 3 }), { maxKeys: 3 }), { nil: undefined }),
  })
  .map(({ entity, pick, site, extensions }) => {
    const value = example(entity, pick);
    if (site !== undefined && entityPaths[entity]["/site/id"] === "scalar") value["site"] = { ...(value["site"] as object), id: site };
    if (entityPaths[entity]["/extensions"] !== undefined) {
      if (extensions === undefined) delete value["extensions"];
      else value["extensions"] = extensions;
    }
    return { entity: entity as EntityName, value };
  });

describe("plant profiles can only narrow the global contract", () => {
  test("a record a profile accepts is one the global contract accepts, and a profile never changes the global verdict", () => {
    const counts = { loaded: 0, refused: 0, profiledOk: 0, narrowed: 0, globallyInvalid: 0 };
    fc.assert(
      fc.property(profileDocument, fc.array(record, { minLength: 1, maxLength: 8 }), (document, records) => {
        const loaded = loadProfile(document);
        if (loaded.isErr()) {
          counts.refused++;
          return;
        }
        counts.loaded++;
        const profile = loaded.value;
        for (const { entity, value } of records) {
          const global = parseEntity(entity, value);
          const profiled = parseEntity(entity, value, { profile });
          if (profiled.isOk()) {
            counts.profiledOk++;
            expect(global.isOk()).toBe(true);
          } else if (global.isErr()) {
            counts.globallyInvalid++;
            expect(profiled.error).toEqual(global.error);
          } else {
            counts.narrowed++;
            for (const issue of profiled.error.issues) expect(issue.profile).toBe(profile.name);
          }
        }
      }),
      { numRuns: 300, seed: 1710 },
    );
    // The property is not vacuous: profiles load, and records pass, fail the profile only, and fail globally.
    expect(counts.loaded).toBeGreaterThan(100);
    expect(counts.profiledOk).toBeGreaterThan(100);
    expect(counts.narrowed).toBeGreaterThan(100);
    expect(counts.globallyInvalid).toBeGreaterThan(20);
  }, 60_000);

  test("a namespace schema means what JSON Schema says: the profile and ajv agree on every namespace value", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    for (const [name, check] of Object.entries(formats)) ajv.addFormat(name, check);
    let compared = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...NAMESPACES), namespaceSchema, fc.dictionary(fc.constantFrom(...FIELDS), scalar, { maxKeys: 4 }), (ns, schema, fields) => {
        const loaded = loadProfile({ id: "p", version: "1.0.0", extensions: { [ns]: schema } });
        if (loaded.isErr()) return;
        const order = example("WorkOrder", 0);
        order["extensions"] = { [ns]: fields };
        const ours = parseEntity("WorkOrder", order, { profile: loaded.value }).isOk();
        const theirs = ajv.validate(schema, fields);
        compared++;
        if (!theirs) rejected++;
        expect(ours, JSON.stringify({ schema, fields })).toBe(theirs);
      }),
      { numRuns: 800, seed: 20 },
    );
    expect(compared).toBeGreaterThan(400);
    expect(rejected).toBeGreaterThan(100);
    expect(compared - rejected).toBeGreaterThan(100);
  }, 60_000);

  test("profiles that would loosen the contract never load: any non-scalar type, $ref or combinator in any field", () => {
    const loosening = fc.constantFrom<Record<string, unknown>>(
      { type: "object" },
      { type: "array" },
      { type: ["string", "object"] },
      { $ref: "#/$defs/anything" },
      { anyOf: [{ type: "object" }] },
      { oneOf: [{ type: "string" }, { type: "array" }] },
      { not: { type: "string" } },
      { if: { type: "string" }, then: { type: "object" } },
      { items: { type: "string" } },
      { additionalProperties: true },
      { enum: [{ a: 1 }] },
      { const: [1] },
    );
    fc.assert(
      fc.property(fc.constantFrom(...NAMESPACES), namespaceSchema, fc.constantFrom(...FIELDS), loosening, fieldSchema, (ns, schema, field, bad, good) => {
        const properties = { ...(schema.properties ?? {}), [field]: { ...good, ...bad } };
        expect(loadProfile({ id: "p", version: "1.0.0", extensions: { [ns]: { ...schema, properties } } }).isErr()).toBe(true);
      }),
      { numRuns: 500, seed: 3 },
    );
  });
});
