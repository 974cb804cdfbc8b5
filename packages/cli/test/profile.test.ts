import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { millwright, root } from "./run-cli.js";
import { removeTempDirs, tempDir } from "./toolchains.js";

// Plant profiles in the command: `codegen --profile` writes their types (compiled here with tsc),
// `diff` classifies their changes and refuses one that conflicts with the global contract.

const PROFILE = join(root, "profiles", "plant-1710.profile.json");
const base = (): Record<string, any> => JSON.parse(readFileSync(PROFILE, "utf8"));

afterAll(removeTempDirs);

function writeProfile(dir: string, name: string, document: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(document, null, 2));
  return file;
}

describe("millwright codegen --profile", () => {
  test("writes the profile's namespaces as types; they compile strictly and narrow the fields", async () => {
    const dir = tempDir("profile-codegen");
    const run = await millwright(["codegen", "--lang", "ts", "--out", dir, "--types", "WorkOrder", "--profile", PROFILE]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const generated = readFileSync(join(dir, "millwright.ts"), "utf8");
    expect(generated).toContain('ZZ1_ShiftModel_ORD?: "1-SHIFT" | "2-SHIFT" | "3-SHIFT";');
    expect(generated).toContain("export type Plant1710WorkOrder = Omit<WorkOrder, \"extensions\"> & { extensions?: Plant1710Extensions };");
    expect(generated).toContain("- shift-model-at-1710: /extensions/sap/ZZ1_ShiftModel_ORD required when /site/id = \"1710\"");
    writeFileSync(
      join(dir, "use.ts"),
      [
        'import type { Plant1710WorkOrder, Plant1710Extensions } from "./millwright.js";',
        "declare const order: Plant1710WorkOrder;",
        'const shift: "1-SHIFT" | "2-SHIFT" | "3-SHIFT" | undefined = order.extensions?.sap?.ZZ1_ShiftModel_ORD;',
        'const crew: number | undefined = order.extensions?.["com.acme.plant1710"]?.crewSize;',
        "// Other namespaces stay the global map of scalars.",
        'const other: string | number | boolean | null | undefined = order.extensions?.["wms"]?.["type"];',
        '// @ts-expect-error a shift model the profile does not allow',
        'const bad: Plant1710Extensions = { sap: { ZZ1_ShiftModel_ORD: "NIGHT" } };',
        "export { shift, crew, other, bad };",
      ].join("\n"),
    );
    // The strictest setting the house uses; a type that compiles here compiles without it too.
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--exactOptionalPropertyTypes", "--skipLibCheck", "--module", "nodenext", join(dir, "use.ts")], { stdio: "pipe" });
  }, 240_000);

  test("a profile that conflicts with the global contract is refused with a diagnostic per issue, exit 2", async () => {
    const dir = tempDir("profile-bad");
    const doc = base();
    doc.extensions.sap.properties.ZZ1_ShiftModel_ORD.type = "object";
    const run = await millwright(["codegen", "--lang", "ts", "--out", dir, "--profile", writeProfile(dir, "bad.profile.json", doc)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("bad.profile.json#/extensions/sap/properties/ZZ1_ShiftModel_ORD/type: error[breaks_contract]");
  });

  test("other languages refuse --profile with a usage error", async () => {
    const run = await millwright(["codegen", "--lang", "java", "--out", tempDir("profile-java"), "--profile", PROFILE]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--profile is supported for --lang ts only");
  });
});

describe("millwright diff <old.profile.json> <new.profile.json>", () => {
  test("the same profile: no change, exit 0", async () => {
    const run = await millwright(["diff", PROFILE, PROFILE]);
    expect(run.stdout.trim()).toBe("0 change(s), 0 breaking");
    expect(run.code).toBe(0);
  });

  test("classifies changes for producers and consumers", async () => {
    const dir = tempDir("profile-diff");
    const next = base();
    next.version = "1.1.0";
    next.extensions.sap.properties.ZZ1_ShiftModel_ORD.enum = ["1-SHIFT", "2-SHIFT", "4-SHIFT"];
    delete next.extensions.sap.properties.ZZ1_LineSupervisor_ORD;
    next.extensions.sap.properties.ZZ1_Team = { type: "string" };
    next.extensions["com.acme.plant1710"].properties.crewSize.maximum = 30;
    next.extensions["com.acme.plant1710"].required = ["shiftCode"];
    next.requirements.push({ id: "crew-at-1710", entity: "ProductionCount", when: { "/equipment/site/id": "1710" }, require: ["/extensions/com.acme.plant1710/crewSize"] });
    const run = await millwright(["diff", "--format", "json", PROFILE, writeProfile(dir, "next.profile.json", next)]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { breaking: number; changes: { severity: string; where: string; rule: string }[] };
    expect(report.changes.map((c) => [c.severity, c.where, c.rule])).toEqual([
      ["breaking", "plant-1710:extensions/com.acme.plant1710/crewSize", "bound_narrowed"],
      ["breaking", "plant-1710:extensions/com.acme.plant1710/shiftCode", "field_required"],
      ["breaking", "plant-1710:extensions/sap/ZZ1_LineSupervisor_ORD", "field_removed"],
      ["breaking", "plant-1710:extensions/sap/ZZ1_ShiftModel_ORD", "enum_narrowed"],
      ["breaking", "plant-1710:requirements/crew-at-1710", "requirement_added"],
      ["compatible", "plant-1710:extensions/sap/ZZ1_ShiftModel_ORD", "enum_widened"],
      ["compatible", "plant-1710:extensions/sap/ZZ1_Team", "field_added"],
    ]);
    expect(report.breaking).toBe(5);
  });

  test("widening only is compatible, exit 0", async () => {
    const dir = tempDir("profile-widen");
    const next = base();
    next.extensions.sap.properties.ZZ1_ShiftModel_ORD.enum.push("4-SHIFT");
    next.extensions["com.acme.plant1710"].additionalProperties = true;
    next.extensions.mes = { type: "object" };
    const run = await millwright(["diff", PROFILE, writeProfile(dir, "next.profile.json", next)]);
    expect(run.stdout).toContain("3 change(s), 0 breaking");
    expect(run.code).toBe(0);
  });

  test("a new version that conflicts with the global contract is refused, exit 1, each issue named", async () => {
    const dir = tempDir("profile-conflict");
    const next = base();
    next.requirements[0].require = ["/shiftCode"];
    next.extensions["Plant 1710"] = { type: "object" };
    const file = writeProfile(dir, "next.profile.json", next);
    const run = await millwright(["diff", PROFILE, file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file}#/extensions/Plant 1710: error[breaks_contract]`);
    expect(run.stderr).toContain(`${file}#/requirements/0/require/0: error[breaks_contract]: /requirements/0/require/0: "/shiftCode" is not a property of WorkOrder`);
  });

  test("a profile and a contract are not compared", async () => {
    const run = await millwright(["diff", PROFILE, join(root, "compat", "baseline.schema.json")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("diff compares two plant profiles or two contracts");
  });
});
