import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { bundleSchemas } from "./bundle.js";
import { lintEvents } from "./events.js";
import { conditionalRules, ID_BASE, lintSchemaFiles, readSchemaFiles, refTarget } from "./schemas.js";

const root = join(import.meta.dirname, "..", "..", "..");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes schema files into a fresh `schemas/` folder: path below schemas/ → JSON value or raw text. */
function schemaDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "contract-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
}

const S = "https://json-schema.org/draft/2020-12/schema";
const key = { $schema: S, $id: `${ID_BASE}common/key.schema.json`, title: "Key", description: "A key.", type: "string" };
const thing = {
  $schema: S,
  $id: `${ID_BASE}entities/thing.schema.json`,
  title: "Thing",
  description: "A thing.",
  type: "object",
  additionalProperties: false,
  required: ["id"],
  "x-natural-key": ["/id"],
  properties: { id: { $ref: "../common/key.schema.json", description: "Its key." } },
};

describe("the schemas of this repository", () => {
  test("pass the house rules, and their bundle is the committed bundle.schema.json", () => {
    const files = readSchemaFiles(join(root, "schemas"));
    expect(files.length).toBeGreaterThan(40);
    expect(lintSchemaFiles(files)).toEqual([]);
    const bundle = bundleSchemas(files);
    expect(lintEvents(files, bundle)).toEqual([]);
    const committed = readFileSync(join(root, "packages", "model", "schemas", "bundle.schema.json"), "utf8");
    expect(`${JSON.stringify(bundle, null, 2)}\n`).toBe(committed);
  });
});

describe("readSchemaFiles", () => {
  test("reads the groups in order, each sorted by name, skips other files and a leading BOM", () => {
    const dir = schemaDir({
      "entities/thing.schema.json": `\ufeff${JSON.stringify(thing)}`,
      "common/key.schema.json": key,
      "common/notes.md": "not a schema",
      "other/ignored.schema.json": key,
    });
    expect(readSchemaFiles(dir).map((f) => [f.file, f.group, f.title])).toEqual([
      ["common/key.schema.json", "common", "Key"],
      ["entities/thing.schema.json", "entities", "Thing"],
    ]);
  });
});

describe("lintSchemaFiles", () => {
  test("names the file, the place and the rule of each violation", () => {
    const dir = schemaDir({
      "common/key.schema.json": { ...key, $id: `${ID_BASE}common/other.schema.json` },
      "entities/thing.schema.json": {
        ...thing,
        title: "thing",
        additionalProperties: true,
        required: ["id", "missing"],
        properties: { id: { $ref: "../common/key.schema.json" }, count: { type: "integer", description: "How many.", oneOf: [] , "x-unknown": 1 } },
      },
    });
    expect(lintSchemaFiles(readSchemaFiles(dir))).toMatchInlineSnapshot(`
      [
        "common/key.schema.json: $id must be https://schemas.millwright.dev/v1/common/key.schema.json, found https://schemas.millwright.dev/v1/common/other.schema.json",
        "entities/thing.schema.json: title must be a PascalCase type name",
        "entities/thing.schema.json: an object with properties must say additionalProperties: false",
        "entities/thing.schema.json: required property "missing" is not declared in properties",
        "entities/thing.schema.json/properties/id: description missing",
        "entities/thing.schema.json/properties/count: keyword "x-unknown" is not supported by the generators",
        "entities/thing.schema.json/properties/count: an integer needs a minimum and a maximum within ±(2^53 - 1), so every language reads it exactly",
      ]
    `);
  });

  test("a title used twice is reported at its second use", () => {
    const dir = schemaDir({ "common/key.schema.json": key, "common/key2.schema.json": { ...key, $id: `${ID_BASE}common/key2.schema.json` } });
    expect(lintSchemaFiles(readSchemaFiles(dir))).toEqual(['common/key2.schema.json: title "Key" is also used by common/key.schema.json']);
  });
});

describe("conditionalRules and refTarget", () => {
  test("reads if/then requirements, and refuses any other allOf", () => {
    const node = {
      allOf: [
        { if: { required: ["type"], properties: { type: { const: "a" } } }, then: { required: ["x"] } },
        { if: { required: ["type"], properties: { type: { enum: ["b", "c"] } } }, then: { properties: { x: false } } },
      ],
    };
    expect(conditionalRules(node)).toEqual([
      { tag: "type", values: ["a"], required: ["x"], forbidden: [] },
      { tag: "type", values: ["b", "c"], required: [], forbidden: ["x"] },
    ]);
    expect(conditionalRules({ allOf: [{ required: ["x"] }] })).toBeUndefined();
    expect(conditionalRules({})).toBeUndefined();
  });

  test("resolves relative refs to titles, and throws naming a ref that points at nothing", () => {
    const files = readSchemaFiles(schemaDir({ "common/key.schema.json": key, "entities/thing.schema.json": thing }));
    const byId = new Map(files.map((f) => [f.id, f]));
    const file = files[1]!;
    expect(refTarget("../common/key.schema.json", file, byId)).toBe("Key");
    expect(() => refTarget("../common/gone.schema.json", file, byId)).toThrowErrorMatchingInlineSnapshot(
      `[Error: entities/thing.schema.json: $ref "../common/gone.schema.json" points at no schema file]`,
    );
  });
});

describe("bundleSchemas", () => {
  test("one $defs entry per title, refs rewritten to #/$defs/<Title>, the entities as the root anyOf", () => {
    const files = readSchemaFiles(schemaDir({ "common/key.schema.json": key, "entities/thing.schema.json": thing }));
    const bundle = bundleSchemas(files);
    expect(bundle["anyOf"]).toEqual([{ $ref: "#/$defs/Thing" }]);
    const defs = bundle["$defs"] as Record<string, Record<string, unknown>>;
    expect(Object.keys(defs)).toEqual(["Key", "Thing"]);
    expect(defs["Thing"]?.["properties"]).toEqual({ id: { $ref: "#/$defs/Key", description: "Its key." } });
    expect(defs["Thing"]?.["$id"]).toBeUndefined();
  });
});

describe("lintEvents", () => {
  test("names an event type that breaks the naming rule and a subject the entity does not have", () => {
    const event = (name: string, meta: Record<string, unknown>) => ({
      $schema: S,
      $id: `${ID_BASE}events/${name}.schema.json`,
      title: "ThingCreatedData",
      description: "A thing was created.",
      $ref: "../entities/thing.schema.json",
      "x-event": { entity: "Thing", partitionKey: ["/id"], ordering: "by id", ...meta },
    });
    const files = readSchemaFiles(
      schemaDir({
        "common/key.schema.json": key,
        "entities/thing.schema.json": thing,
        "events/thing-created.schema.json": event("thing-created", { type: "dev.millwright.thing.created.v1", subject: "/name" }),
      }),
    );
    expect(lintEvents(files, bundleSchemas(files))).toEqual(["events/thing-created.schema.json: /name is not a property of Thing"]);
    const bad = readSchemaFiles(
      schemaDir({
        "common/key.schema.json": key,
        "entities/thing.schema.json": thing,
        "events/thing-created.schema.json": event("thing-created", { type: "thing.created", subject: "/id" }),
      }),
    );
    expect(lintEvents(bad, bundleSchemas(bad))).toEqual([
      'events/thing-created.schema.json: x-event.type "thing.created" must be dev.millwright.<entity>.<action>.v<major>',
    ]);
  });

  test("a deprecation mark names its release, a reason and another type of the catalog", () => {
    const event = (name: string, type: string, deprecated?: Record<string, unknown>) => ({
      $schema: S,
      $id: `${ID_BASE}events/${name}.schema.json`,
      title: `Thing${name.endsWith("v2") ? "CreatedV2" : "Created"}Data`,
      description: "A thing was created.",
      $ref: "../entities/thing.schema.json",
      "x-event": { type, entity: "Thing", subject: "/id", partitionKey: ["/id"], ordering: "by id", ...(deprecated === undefined ? {} : { deprecated }) },
    });
    const lint = (deprecated: Record<string, unknown>) => {
      const files = readSchemaFiles(
        schemaDir({
          "common/key.schema.json": key,
          "entities/thing.schema.json": thing,
          "events/thing-created.schema.json": event("thing-created", "dev.millwright.thing.created.v1", deprecated),
          "events/thing-created-v2.schema.json": event("thing-created-v2", "dev.millwright.thing.created.v2"),
        }),
      );
      return lintEvents(files, bundleSchemas(files));
    };
    expect(lint({ since: "0.2.0", replacedBy: "dev.millwright.thing.created.v2", reason: "v2 says more" })).toEqual([]);
    expect(lint({ since: "", replacedBy: "dev.millwright.thing.created.v3", note: "x" })).toMatchInlineSnapshot(`
      [
        "events/thing-created.schema.json: x-event.deprecated has since, replacedBy and reason only (found note)",
        "events/thing-created.schema.json: x-event.deprecated.since must be a non-empty string",
        "events/thing-created.schema.json: x-event.deprecated.reason must be a non-empty string",
        "events/thing-created.schema.json: x-event.deprecated.replacedBy must name another type of the catalog (got "dev.millwright.thing.created.v3")",
      ]
    `);
  });
});
