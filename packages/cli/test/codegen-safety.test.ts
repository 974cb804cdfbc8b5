import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { codegenLanguages, generateCode, type GeneratedFile } from "../src/codegen.js";
import { goBuildAndVet, javacWithJackson, mcsWithNewtonsoft, mypyStrict, removeTempDirs, tempDir } from "./toolchains.js";

// The bundle is untrusted input to `millwright codegen --schemas`: nothing in it may make a generator
// read the network or the file system, and nothing in it may become code.

const root = join(import.meta.dirname, "..", "..", "..");
const BUNDLE_ID = "https://schemas.millwright.dev/v1/bundle.schema.json";

type Node = Record<string, unknown>;

/** A small, valid bundle: Thing has a name and a Part; the root is Thing. */
function smallBundle(): Node & { $defs: Record<string, Node> } {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: BUNDLE_ID,
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
        },
      },
    },
  };
}

function props(bundle: Node & { $defs: Record<string, Node> }, def: string): Record<string, Node> {
  return (bundle.$defs[def] as { properties: Record<string, Node> }).properties;
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
  removeTempDirs();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("codegen refuses every $ref that leaves the bundle, before any generator runs", () => {
  test("an http(s) $ref: an error naming the ref and its location in every language, and no request reaches the server", async () => {
    requests = 0;
    const bundle = smallBundle();
    const url = `${base}/part.schema.json`;
    props(bundle, "Thing")["part"] = { $ref: url, description: "The part." };
    for (const lang of codegenLanguages) {
      const result = await generateCode({ lang, bundle });
      expect(result.isErr(), lang).toBe(true);
      expect(result._unsafeUnwrapErr()).toMatchObject({ code: "external_ref", path: "/$defs/Thing/properties/part/$ref", value: url });
      expect(result._unsafeUnwrapErr().message).toContain(url);
      expect(result._unsafeUnwrapErr().message).toContain("/$defs/Thing/properties/part/$ref");
    }
    expect(requests).toBe(0);
  });

  test("millwright codegen --schemas with a remote $ref: exit 2, the ref and its place on stderr escaped, nothing written, no request", async () => {
    requests = 0;
    const dir = tempDir("codegen-cli");
    const bundle = smallBundle();
    const url = `${base}/part.schema.json?\u001b[2J`;
    props(bundle, "Thing")["part"] = { $ref: url };
    writeFileSync(join(dir, "bundle.json"), `\ufeff${JSON.stringify(bundle)}`);
    const cli = join(root, "packages", "cli", "src", "cli.ts");
    const args = ["--conditions=@millwright/source", "--import", "tsx", cli, "codegen", "--lang", "go", "--out", join(dir, "out"), "--schemas", join(dir, "bundle.json")];
    const failure = await promisify(execFile)(process.execPath, args, { cwd: root }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain(`millwright: error[external_ref]: /$defs/Thing/properties/part/$ref: "${base}/part.schema.json?\\u001b[2J" points outside the bundle`);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(requests).toBe(0);
  }, 60_000);

  test("the message is pinned", async () => {
    const bundle = smallBundle();
    props(bundle, "Thing")["part"] = { $ref: "https://attacker.example/part.json#/x" };
    const error = (await generateCode({ lang: "go", bundle }))._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(
      `"/$defs/Thing/properties/part/$ref: "https://attacker.example/part.json#/x" points outside the bundle; codegen follows only references into the bundle's own $defs (#/$defs/<Name>) and never fetches or reads a schema"`,
    );
  });

  test("a file $ref (file: URL, absolute or relative path): refused, and the file's content never reaches the output", async () => {
    const dir = tempDir("codegen-ref");
    const secret = join(dir, "secret.schema.json");
    writeFileSync(secret, JSON.stringify({ title: "StolenSecret", type: "object", properties: { token: { type: "string" } } }));
    for (const ref of [`file://${secret}`, secret, "secret.schema.json", `../${dir.split("/").at(-1)}/secret.schema.json#/properties/token`]) {
      const bundle = smallBundle();
      props(bundle, "Thing")["part"] = { $ref: ref };
      for (const lang of codegenLanguages) {
        const result = await generateCode({ lang, bundle });
        expect(result.isErr(), `${lang} ${ref}`).toBe(true);
        expect(result._unsafeUnwrapErr()).toMatchObject({ code: "external_ref", value: ref });
      }
    }
  });

  test("a $ref inside examples (json-schema-to-typescript's resolver follows $ref anywhere) is refused too; no request", async () => {
    requests = 0;
    const bundle = smallBundle();
    bundle.$defs["Thing"]!["examples"] = [{ name: "x", part: { $ref: `${base}/example.json` } }];
    for (const lang of codegenLanguages) {
      expect((await generateCode({ lang, bundle }))._unsafeUnwrapErr(), lang).toMatchObject({
        code: "external_ref",
        path: "/$defs/Thing/examples/0/part/$ref",
      });
    }
    expect(requests).toBe(0);
  });

  test("a nested $id (which moves the base of local refs to another server) is refused; no request", async () => {
    requests = 0;
    const bundle = smallBundle();
    bundle.$defs["Thing"]!["$id"] = `${base}/elsewhere/`;
    for (const lang of codegenLanguages) {
      expect((await generateCode({ lang, bundle }))._unsafeUnwrapErr(), lang).toMatchObject({ code: "unsupported_keyword", path: "/$defs/Thing/$id" });
    }
    expect(requests).toBe(0);
  });

  test("a local $ref to nothing, or outside $defs, is an error naming it", async () => {
    const missing = smallBundle();
    props(missing, "Thing")["part"] = { $ref: "#/$defs/Nope" };
    expect((await generateCode({ lang: "ts", bundle: missing }))._unsafeUnwrapErr()).toMatchObject({
      code: "unresolved_ref",
      path: "/$defs/Thing/properties/part/$ref",
      value: "#/$defs/Nope",
    });
    const rootRef = smallBundle();
    props(rootRef, "Thing")["part"] = { $ref: "#" };
    expect((await generateCode({ lang: "ts", bundle: rootRef }))._unsafeUnwrapErr()).toMatchObject({ code: "unresolved_ref", value: "#" });
  });

  test("refs relative to the bundle's own $id are followed as local refs, in every language", async () => {
    const bundle = smallBundle();
    props(bundle, "Thing")["part"] = { $ref: `${BUNDLE_ID}#/$defs/Part` };
    props(bundle, "Thing")["spare"] = { $ref: "bundle.schema.json#/$defs/Part", description: "A spare part." };
    for (const lang of codegenLanguages) {
      const files = (await generateCode({ lang, bundle }))._unsafeUnwrap();
      expect(files.map((f) => f.content).join("\n"), lang).toMatch(/Part/);
    }
  });
});

describe("codegen refuses names and keywords that would become code", () => {
  test("a definition name that is not an identifier: an error naming the name and the rule, in every language", async () => {
    const name = "Alias = Thing; (globalThis as any).pwned = 1; export type Z";
    const bundle = smallBundle();
    bundle.$defs[name] = { $ref: "#/$defs/Thing", description: "An alias." };
    (bundle["anyOf"] as unknown[]).push({ $ref: `#/$defs/${name}` });
    for (const lang of codegenLanguages) {
      const error = (await generateCode({ lang, bundle }))._unsafeUnwrapErr();
      expect(error, lang).toMatchObject({ code: "invalid_name", value: name, path: `/$defs/${name}` });
      expect(error.message).toContain("is not a type name: a letter A-Z, then letters and digits");
    }
  });

  test("a title that is not an identifier, and a property name that is not one (a backtick ends a Go struct tag)", async () => {
    const titled = smallBundle();
    titled.$defs["Part"]!["title"] = "Part\"; globalThis.pwned = 1; //";
    expect((await generateCode({ lang: "ts", bundle: titled }))._unsafeUnwrapErr()).toMatchObject({ code: "invalid_name", path: "/$defs/Part/title" });
    const tagged = smallBundle();
    const property = 'a`;}; func init() { panic(1) }; type Z struct { Y string `json:"y';
    props(tagged, "Part")[property] = { type: "string", description: "x" };
    expect((await generateCode({ lang: "go", bundle: tagged }))._unsafeUnwrapErr()).toMatchObject({
      code: "invalid_name",
      value: property,
      path: `/$defs/Part/properties/${property}`,
    });
  });

  test("generator-specific keywords that emit raw code (tsType) are refused", async () => {
    const bundle = smallBundle();
    props(bundle, "Part")["code"] = { type: "string", description: "x", tsType: "string; (globalThis as any).pwned = 1" };
    for (const lang of codegenLanguages) {
      expect((await generateCode({ lang, bundle }))._unsafeUnwrapErr(), lang).toMatchObject({
        code: "unsupported_keyword",
        path: "/$defs/Part/properties/code/tsType",
      });
    }
  });

  test("an enum value with a control character is refused (it cannot be written in every language's string literals)", async () => {
    const bundle = smallBundle();
    props(bundle, "Part")["kind"] = { type: "string", enum: ["a\rb", "c"], description: "x" };
    expect((await generateCode({ lang: "java", bundle }))._unsafeUnwrapErr()).toMatchObject({ code: "invalid_text", path: "/$defs/Part/properties/kind/enum/0" });
  });

  test("hostile descriptions stay comments, and keyword or clashing names get distinct identifiers: every language's output compiles, and Java gets no Unicode escape", async () => {
    const hostile = "ends */ here; \\u002a/ static { System.exit(3); } /\\u002a \u2028 line\u2029sep\u0085nel\r\ncr\u0000nul\u001b[31m \"\"\" ''' `tick`";
    const bundle = smallBundle();
    bundle.$defs["Thing"]!["description"] = hostile;
    props(bundle, "Thing")["name"] = { type: "string", description: hostile };
    props(bundle, "Part")["code"] = { type: "string", enum: ["A", "B"], description: hostile };
    // Names that are keywords or clash once converted to each language's conventions.
    for (const name of ["default", "from", "class", "package", "hashCode", "type", "orderId", "order_id", "Part", "to_dict"]) props(bundle, "Part")[name] = { type: "string", description: "x" };
    props(bundle, "Part")["state"] = { enum: ["1", "in-progress", "in_progress", "", "Empty", "Part"], description: "x" };
    const outputs = new Map<string, GeneratedFile[]>();
    for (const lang of codegenLanguages) outputs.set(lang, (await generateCode({ lang, bundle }))._unsafeUnwrap());
    const all = [...outputs.values()].flat().map((f) => f.content).join("\n");
    expect(all).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    const java = outputs.get("java")!;
    for (const f of java) expect(f.content, f.path).not.toMatch(/(?<!\\)(?:\\\\)*\\u/);
    const dir = tempDir("codegen-hostile");
    const write = (sub: string, files: readonly GeneratedFile[]): string[] =>
      files.map((f) => {
        const path = join(dir, sub, f.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, f.content);
        return path;
      });
    javacWithJackson(dir, write("java", java));
    mypyStrict(dir, write("python", outputs.get("python")!));
    mcsWithNewtonsoft(dir, write("csharp", outputs.get("csharp")!), "library");
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", ...write("ts", outputs.get("ts")!)], { stdio: "pipe" });
    goBuildAndVet(outputs.get("go")![0]!.content);
  }, 180_000);
});
