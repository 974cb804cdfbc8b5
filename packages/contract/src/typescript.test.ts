import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { emitTypes } from "./typescript.js";

type Node = Record<string, unknown>;

/** A small, valid bundle: Thing has a name and a Part; the root is Thing. */
function smallBundle(): Node & { $defs: Record<string, Node & { properties: Record<string, Node> }> } {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://schemas.millwright.dev/v1/bundle.schema.json",
    title: "CanonicalEntity",
    anyOf: [{ $ref: "#/$defs/Thing" }],
    $defs: {
      Part: {
        title: "Part",
        description: "A part.",
        type: "object",
        additionalProperties: false,
        required: ["code"],
        properties: { code: { type: "string", description: "The part code." } },
      },
      Thing: {
        title: "Thing",
        description: "A thing.",
        type: "object",
        additionalProperties: false,
        required: ["name", "part"],
        properties: {
          name: { type: "string", description: "The name." },
          part: { $ref: "#/$defs/Part", description: "The part." },
          spare: { $ref: "#/$defs/Part", description: "A spare part." },
        },
      },
    },
  };
}

// A loopback server that serves a valid schema for any path and counts every request.
let server: Server;
let requests = 0;
let base = "";
beforeAll(async () => {
  server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { "content-type": "application/schema+json" });
    res.end(JSON.stringify({ title: "Fetched", type: "object", properties: { stolen: { type: "string" } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("emitTypes", () => {
  test("declares each definition once, keeps the root union and puts $ref siblings back as TSDoc", async () => {
    const source = await emitTypes(smallBundle(), "// banner");
    expect(source.startsWith("// banner")).toBe(true);
    expect(source.match(/^export interface Part \{/gm)).toHaveLength(1);
    expect(source).not.toMatch(/Part1/);
    expect(source).toMatch(/^export type CanonicalEntity =\n {2}\| Thing;/m);
    expect(source).toMatch(/\/\*\*\n {3}\* A spare part\.\n {3}\*\/\n {2}spare\?: Part;/);
  });

  test("a definition that is only a $ref becomes an alias of its target", async () => {
    const bundle = smallBundle();
    bundle.$defs["ThingCreatedData"] = { $ref: "#/$defs/Thing", description: "Data of a created thing." } as never;
    const source = await emitTypes(bundle, "// banner");
    expect(source).toMatch(/\/\*\*\n \* Data of a created thing\.\n \*\/\nexport type ThingCreatedData = Thing;/);
  });

  test("a name that is not an identifier is refused before it becomes code", async () => {
    const bundle = smallBundle();
    bundle.$defs["Bad;Name"] = { $ref: "#/$defs/Thing" } as never;
    await expect(emitTypes(bundle, "// banner")).rejects.toThrowErrorMatchingInlineSnapshot(
      `[Error: "Bad;Name" is not a type name; it cannot be written into TypeScript]`,
    );
  });

  test("follows no external ref (the build tooling calls it directly): no request reaches the server, nothing fetched is declared", async () => {
    requests = 0;
    const bundle = smallBundle();
    bundle.$defs["Thing"]!.properties["part"] = { $ref: `${base}/part.schema.json` };
    const outcome = await emitTypes(bundle, "// test").then(
      (source) => source,
      (error: unknown) => error,
    );
    expect(requests).toBe(0);
    expect(String(outcome)).not.toMatch(/stolen|Fetched/);
  });
});
