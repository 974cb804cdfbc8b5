import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { generateCode, type GeneratedFile } from "../src/codegen.js";
import { goBuildAndVet } from "./toolchains.js";

const root = join(import.meta.dirname, "..", "..", "..");
const bundle = JSON.parse(readFileSync(join(root, "packages/model/schemas/bundle.schema.json"), "utf8"));
const ENTITIES = ["WorkOrder", "Batch", "MaterialMovement", "QualityHold", "ProductionConfirmation", "MachineState", "ProductionCount"];
const STEMS: Record<string, string> = {
  WorkOrder: "work-order", Batch: "batch", MaterialMovement: "material-movement", QualityHold: "quality-hold",
  ProductionConfirmation: "production-confirmation", MachineState: "machine-state", ProductionCount: "production-count",
};

function write(files: readonly GeneratedFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), "millwright-codegen-"));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
  }
  return dir;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

describe("codegen", () => {
  test("Python: every valid schema example round-trips through the generated classes", async () => {
    const files = (await generateCode({ lang: "python", bundle }))._unsafeUnwrap();
    const dir = write(files);
    const cases = ENTITIES.flatMap((e) =>
      readdirSync(join(root, "schemas/examples", STEMS[e]!)).map((f) => [snake(e), join(root, "schemas/examples", STEMS[e]!, f)]),
    );
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases));
    const script = [
      "import json, sys, millwright",
      "cases = json.load(open('cases.json'))",
      "for name, path in cases:",
      "    original = json.load(open(path))",
      "    obj = getattr(millwright, name + '_from_dict')(original)",
      "    back = getattr(millwright, name + '_to_dict')(obj)",
      "    assert back == original, (path, back)",
      "print(len(cases))",
    ].join("\n");
    const out = execFileSync("python3", ["-c", script], { cwd: dir, encoding: "utf8" });
    expect(Number(out.trim())).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(21);
  });

  test("Java: the generated classes compile with javac", async () => {
    const files = (await generateCode({ lang: "java", bundle }))._unsafeUnwrap();
    expect(files.map((f) => f.path)).toContain("dev/millwright/model/WorkOrder.java");
    const dir = write(files);
    execFileSync("javac", ["-d", join(dir, "classes"), ...files.map((f) => join(dir, f.path))], { cwd: dir, stdio: "pipe" });
    expect(readdirSync(join(dir, "classes/dev/millwright/model"))).toContain("WorkOrder.class");
  }, 120_000);

  test("TypeScript: one declaration per type, and it type-checks", async () => {
    const [file] = (await generateCode({ lang: "ts", bundle, types: ["dev.millwright.workorder.released.v1"] }))._unsafeUnwrap();
    expect(file!.content).toContain("export interface WorkOrder {");
    expect(file!.content.match(/^export interface Quantity \{/gm)).toHaveLength(1);
    const dir = write([file!]);
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", join(dir, "millwright.ts")], { stdio: "pipe" });
  }, 60_000);

  test("Go: the generated package for every entity builds and passes go vet (offline, a module of its own)", async () => {
    const [file] = (await generateCode({ lang: "go", bundle }))._unsafeUnwrap();
    expect(file!.path).toBe("millwright.go");
    for (const entity of ENTITIES) expect(file!.content).toContain(`type ${entity} struct`);
    goBuildAndVet(file!.content);
  }, 180_000);

  test("C# and Go: the requested types are generated", async () => {
    const cs = (await generateCode({ lang: "csharp", bundle, types: ["Batch"] }))._unsafeUnwrap()[0]!.content;
    expect(cs).toContain("public partial class Batch");
    expect(cs).toContain("namespace Millwright.Model");
    const go = (await generateCode({ lang: "go", bundle, types: ["QualityHold"] }))._unsafeUnwrap()[0]!.content;
    expect(go).toContain("type QualityHold struct");
  });

  test("an unknown type is named in the error", async () => {
    expect((await generateCode({ lang: "go", bundle, types: ["WorkOrdr"] }))._unsafeUnwrapErr()).toMatchObject({ code: "unknown_type", value: "WorkOrdr" });
  });
});
