import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { generateCode, type CodegenLanguage, type GeneratedFile } from "../src/codegen.js";
import { goBuildAndVet, goBuildAndVetModule, javacWithJackson, mcsWithNewtonsoft, mypyStrict, removeTempDirs, requireTool, run, tempDir, writeTree } from "./toolchains.js";

// Every language's output is compiled with its real toolchain, and every schema example goes
// through it: JSON in, a typed object, JSON out, equal to the input. One program per language reads
// all examples, so each language compiles once.

const root = join(import.meta.dirname, "..", "..", "..");
const bundle = JSON.parse(readFileSync(join(root, "packages/model/schemas/bundle.schema.json"), "utf8")) as Record<string, unknown> & { anyOf: { $ref: string }[] };
const ROOTS = bundle.anyOf.map((r) => r.$ref.slice("#/$defs/".length));
const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/** One example: the entity it is, and its file. */
interface Case {
  readonly type: string;
  readonly path: string;
  /** Set for the cases every language must refuse. */
  readonly refuse?: string;
}

const examplesDir = join(root, "schemas/examples");
const EXAMPLES: Case[] = readdirSync(examplesDir)
  .sort()
  .flatMap((stem) => {
    const type = ROOTS.find((r) => kebab(r) === stem);
    if (type === undefined) throw new Error(`schemas/examples/${stem} is the example folder of no entity of the bundle (${ROOTS.join(", ")})`);
    return readdirSync(join(examplesDir, stem))
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => ({ type, path: join(examplesDir, stem, f) }));
  });

/** Cases every language must refuse: a property the contract does not have, a wrong type. */
function refusals(dir: string): Case[] {
  const order = JSON.parse(readFileSync(EXAMPLES.find((c) => c.type === "WorkOrder")!.path, "utf8")) as Record<string, unknown>;
  const unknown = join(dir, "unknown-property.json");
  writeFileSync(unknown, JSON.stringify({ ...order, orderNumber: order["orderId"] }));
  const wrongType = join(dir, "wrong-type.json");
  writeFileSync(wrongType, JSON.stringify({ ...order, priority: "high" }));
  return [
    { type: "WorkOrder", path: unknown, refuse: "orderNumber" },
    { type: "WorkOrder", path: wrongType, refuse: "priority" },
  ];
}

type Outcome = { ok: unknown } | { error: string };

/** Compares each program's output with its input; returns the cases that did not round-trip. */
function check(cases: readonly Case[], outcomes: readonly Outcome[]): { roundTripped: number; failures: string[] } {
  expect(outcomes).toHaveLength(cases.length);
  const failures: string[] = [];
  let roundTripped = 0;
  cases.forEach((c, i) => {
    const outcome = outcomes[i]!;
    if (c.refuse !== undefined) {
      if ("ok" in outcome) failures.push(`${c.path}: accepted, but ${c.refuse} breaks the contract`);
      else if (!outcome.error.includes(c.refuse)) failures.push(`${c.path}: refused, but the error does not name ${c.refuse}: ${outcome.error}`);
      return;
    }
    const input: unknown = JSON.parse(readFileSync(c.path, "utf8"));
    if ("error" in outcome) failures.push(`${c.path}: ${outcome.error}`);
    else if (!isDeepStrictEqual(outcome.ok, input)) failures.push(`${c.path}: came back as ${JSON.stringify(outcome.ok)}`);
    else roundTripped += 1;
  });
  return { roundTripped, failures };
}

async function generate(lang: CodegenLanguage): Promise<GeneratedFile[]> {
  return (await generateCode({ lang, bundle }))._unsafeUnwrap();
}

function filesOf(generated: readonly GeneratedFile[]): Record<string, string> {
  return Object.fromEntries(generated.map((f) => [f.path, f.content]));
}

/** What each language measured, for the summary at the end. */
const summary: string[] = [];

describe("codegen: types named after the contract's definitions, once each", () => {
  test("Java: one file per definition, named after it; a field's type is its definition (Quantity), never a copy", async () => {
    const files = await generate("java");
    const names = files.map((f) => f.path.replace(/^dev\/millwright\/model\/|\.java$/g, ""));
    expect(names).toContain("Quantity");
    expect(names).toContain("WorkOrder");
    expect(names.filter((n) => /^Quantity/.test(n))).toEqual(["Quantity"]);
    expect(names.filter((n) => /^(Purple|Fluffy|Tentacled|Sticky)|Class$/.test(n))).toEqual([]);
    const order = files.find((f) => f.path.endsWith("/WorkOrder.java"))!.content;
    expect(order).toContain('@JsonProperty("confirmedScrapQuantity") Quantity confirmedScrapQuantity');
    expect(order).toContain('@JsonProperty(value = "orderId", required = true) String orderId');
  });

  test("Go, Python and C#: each definition declared once, under its own name", async () => {
    const go = (await generate("go"))[0]!.content;
    const py = (await generate("python"))[0]!.content;
    const cs = (await generate("csharp"))[0]!.content;
    expect(go.match(/^type Quantity struct/gm)).toHaveLength(1);
    expect(go.match(/^type SiteRef struct/gm)).toHaveLength(1);
    expect(go).not.toMatch(/^type (Purple|Fluffy)/m);
    expect(go).toContain("ConfirmedScrapQuantity *Quantity `json:\"confirmedScrapQuantity,omitempty\"`");
    expect(go).toContain("OrderID Identifier `json:\"orderId\"`");
    expect(py.match(/^class Quantity:/gm)).toHaveLength(1);
    expect(py).toContain("confirmed_scrap_quantity: Optional[Quantity] = None");
    expect(cs.match(/public partial class Quantity$/gm)).toHaveLength(1);
    expect(cs).toContain('[DataMember(Name = "orderId", IsRequired = true)]');
    expect(cs).toContain('[JsonPropertyName("orderId")]');
  });

  test("an inline type is named after its definition and property, and a subset carries only what it reaches", async () => {
    const go = (await generateCode({ lang: "go", bundle, types: ["QualityHold"] }))._unsafeUnwrap()[0]!.content;
    expect(go).toContain("type QualityHold struct");
    expect(go).toContain("type QualityHoldScope struct");
    expect(go).toContain("type QualityHoldStatus string");
    expect(go).not.toContain("EquipmentRefLevel");
    expect(go).not.toContain("type WorkOrder struct");
    const cs = (await generateCode({ lang: "csharp", bundle, types: ["dev.millwright.batch.created.v1"] }))._unsafeUnwrap()[0]!.content;
    expect(cs).toContain("public partial class Batch");
    expect(cs).toContain("namespace Millwright.Model");
  });

  test("an unknown type is named in the error", async () => {
    expect((await generateCode({ lang: "go", bundle, types: ["WorkOrdr"] }))._unsafeUnwrapErr()).toMatchObject({ code: "unknown_type", value: "WorkOrdr" });
  });
});

describe("codegen: each language compiles with its toolchain and round-trips every schema example", () => {
  test("the examples cover every entity", () => {
    expect(new Set(EXAMPLES.map((c) => c.type))).toEqual(new Set(ROOTS));
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(50);
  });

  test("Java (javac + Debian's Jackson): compiles without warnings, every example round-trips, unknown properties and wrong types are refused", async () => {
    const version = requireTool("javac", ["-version"]);
    const dir = tempDir("java");
    const generated = await generate("java");
    const cases = [...EXAMPLES, ...refusals(dir)];
    writeTree(dir, { ...filesOf(generated), "RoundTrip.java": javaHarness(), "cases.json": JSON.stringify(cases.map((c) => [c.type, c.path])) });
    const classpath = javacWithJackson(dir, [...generated.map((f) => f.path), "RoundTrip.java"]);
    const out = run("java", ["-cp", classpath, "RoundTrip", "cases.json"], { cwd: dir, what: "the Java round trip" });
    const result = check(cases, JSON.parse(out) as Outcome[]);
    summary.push(`Java | ${version}, Jackson 2.14 | yes | ${result.roundTripped}/${EXAMPLES.length}`);
    expect(result.failures).toEqual([]);
    expect(result.roundTripped).toBe(EXAMPLES.length);
  }, 240_000);

  test("Go (go build + go vet): builds, vets, is gofmt-clean, every example round-trips, unknown properties and wrong types are refused", async () => {
    const version = requireTool("go", ["version"]);
    const dir = tempDir("go");
    const [generated] = await generate("go");
    const cases = [...EXAMPLES, ...refusals(dir)];
    const module = writeTree(join(dir, "module"), {
      "go.mod": "module example.com/roundtrip\n\ngo 1.19\n",
      "millwright/millwright.go": generated!.content,
      "main.go": goHarness(),
    });
    writeFileSync(join(dir, "cases.json"), JSON.stringify(cases.map((c) => [c.type, c.path])));
    const env = goBuildAndVetModule(module, dir);
    expect(run("gofmt", ["-l", "millwright"], { cwd: module, env, what: "gofmt -l" }).trim(), "gofmt would reformat the generated code").toBe("");
    run("go", ["build", "-o", join(dir, "roundtrip"), "."], { cwd: module, env, what: "go build of the round trip" });
    const out = run(join(dir, "roundtrip"), [join(dir, "cases.json")], { cwd: dir, what: "the Go round trip" });
    const result = check(cases, JSON.parse(out) as Outcome[]);
    summary.push(`Go | ${version} | yes | ${result.roundTripped}/${EXAMPLES.length}`);
    expect(result.failures).toEqual([]);
    expect(result.roundTripped).toBe(EXAMPLES.length);
  }, 240_000);

  test("Python (mypy --strict): the module and a program using it type-check, every example round-trips, unknown properties and wrong types are refused", async () => {
    const version = requireTool("mypy", ["--version"]);
    const dir = tempDir("python");
    const generated = await generate("python");
    const cases = [...EXAMPLES, ...refusals(dir)];
    writeTree(dir, { ...filesOf(generated), "roundtrip.py": pythonHarness(), "cases.json": JSON.stringify(cases.map((c) => [c.type, c.path])) });
    mypyStrict(dir, ["millwright.py", "roundtrip.py"]);
    const out = run("python3", ["roundtrip.py", "cases.json"], { cwd: dir, what: "the Python round trip" });
    const result = check(cases, JSON.parse(out) as Outcome[]);
    summary.push(`Python | ${execFileSync("python3", ["--version"], { encoding: "utf8" }).trim()}, ${version} | yes | ${result.roundTripped}/${EXAMPLES.length}`);
    expect(result.failures).toEqual([]);
    expect(result.roundTripped).toBe(EXAMPLES.length);
  }, 240_000);

  test("C# (Mono mcs, Newtonsoft.Json): compiles without warnings, every example round-trips, unknown properties and wrong types are refused", async () => {
    const version = requireTool("mcs", ["--version"]);
    const dir = tempDir("csharp");
    const generated = await generate("csharp");
    const cases = [...EXAMPLES, ...refusals(dir)];
    writeTree(dir, { ...filesOf(generated), "RoundTrip.cs": csharpHarness(), "cases.json": JSON.stringify(cases.map((c) => [c.type, c.path])) });
    const exe = mcsWithNewtonsoft(dir, ["Millwright.cs", "RoundTrip.cs"]);
    const out = run("mono", [exe, "cases.json"], { cwd: dir, what: "the C# round trip" });
    const result = check(cases, JSON.parse(out) as Outcome[]);
    summary.push(`C# | ${version} | yes | ${result.roundTripped}/${EXAMPLES.length}`);
    expect(result.failures).toEqual([]);
    expect(result.roundTripped).toBe(EXAMPLES.length);
  }, 240_000);

  test("TypeScript: one declaration per type, and it type-checks", async () => {
    const [file] = (await generateCode({ lang: "ts", bundle, types: ["dev.millwright.workorder.released.v1"] }))._unsafeUnwrap();
    expect(file!.content).toContain("export interface WorkOrder {");
    expect(file!.content.match(/^export interface Quantity \{/gm)).toHaveLength(1);
    const dir = writeTree(tempDir("ts"), { "millwright.ts": file!.content });
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", join(dir, "millwright.ts")], { stdio: "pipe" });
  }, 60_000);

  test("the Go package for one entity builds and vets on its own", async () => {
    const [file] = (await generateCode({ lang: "go", bundle, types: ["ProductionCount"] }))._unsafeUnwrap();
    goBuildAndVet(file!.content);
  }, 120_000);

  afterAll(() => {
    removeTempDirs();
    // Printed for the record: language | toolchain | compiles | round-trips.
    console.log(["language | toolchain | compiles | round-trips", ...summary].join("\n"));
  });
});

/** The Java program: reads each case as its record, writes it back, prints one outcome per case. */
function javaHarness(): string {
  const branches = ROOTS.map((t) => `            case ${JSON.stringify(t)}: return mapper.readValue(text, dev.millwright.model.${t}.class);`);
  return `import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;

public final class RoundTrip {
    private RoundTrip() {
    }

    static Object read(ObjectMapper mapper, String type, String text) throws java.io.IOException {
        switch (type) {
${branches.join("\n")}
            default: throw new IllegalArgumentException("no type " + type);
        }
    }

    public static void main(String[] args) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode results = mapper.createArrayNode();
        for (JsonNode c : mapper.readTree(Files.readString(Path.of(args[0])))) {
            String text = Files.readString(Path.of(c.get(1).asText()));
            ObjectNode outcome = results.addObject();
            try {
                Object value = read(mapper, c.get(0).asText(), text);
                outcome.set("ok", mapper.readTree(mapper.writeValueAsString(value)));
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                outcome.put("error", e.getMessage());
            }
        }
        System.out.print(mapper.writeValueAsString(results));
    }
}
`;
}

/** The Go program: decodes each case into its struct (unknown fields refused), encodes it back. */
function goHarness(): string {
  const branches = ROOTS.map((t) => `\t\tcase ${JSON.stringify(t)}:\n\t\t\tout, err = roundTrip[millwright.${t}](data)`);
  return `package main

import (
\t"bytes"
\t"encoding/json"
\t"fmt"
\t"os"

\t"example.com/roundtrip/millwright"
)

func roundTrip[T any](data []byte) (json.RawMessage, error) {
\tvar value T
\tdecoder := json.NewDecoder(bytes.NewReader(data))
\tdecoder.DisallowUnknownFields()
\tif err := decoder.Decode(&value); err != nil {
\t\treturn nil, err
\t}
\treturn json.Marshal(&value)
}

type outcome struct {
\tOK    json.RawMessage \`json:"ok,omitempty"\`
\tError string          \`json:"error,omitempty"\`
}

func main() {
\traw, err := os.ReadFile(os.Args[1])
\tif err != nil {
\t\tpanic(err)
\t}
\tvar cases [][]string
\tif err := json.Unmarshal(raw, &cases); err != nil {
\t\tpanic(err)
\t}
\toutcomes := []outcome{}
\tfor _, c := range cases {
\t\tdata, err := os.ReadFile(c[1])
\t\tif err != nil {
\t\t\tpanic(err)
\t\t}
\t\tvar out json.RawMessage
\t\tswitch c[0] {
${branches.join("\n")}
\t\tdefault:
\t\t\terr = fmt.Errorf("no type %s", c[0])
\t\t}
\t\tif err != nil {
\t\t\toutcomes = append(outcomes, outcome{Error: err.Error()})
\t\t} else {
\t\t\toutcomes = append(outcomes, outcome{OK: out})
\t\t}
\t}
\tencoded, err := json.Marshal(outcomes)
\tif err != nil {
\t\tpanic(err)
\t}
\tos.Stdout.Write(encoded)
}
`;
}

/** The Python program: reads each case with from_dict, writes it with to_dict; type-checked too. */
function pythonHarness(): string {
  const readers = ROOTS.map((t) => `    ${JSON.stringify(t)}: lambda data: millwright.${t}.from_dict(data).to_dict(),`);
  return `import json
import sys
from typing import Any, Callable, Dict, List

import millwright

READERS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
${readers.join("\n")}
}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        cases: List[List[str]] = json.load(f)
    outcomes: List[Dict[str, Any]] = []
    for case in cases:
        with open(case[1], encoding="utf-8") as f:
            data = json.load(f)
        try:
            outcomes.append({"ok": READERS[case[0]](data)})
        except millwright.ContractError as e:
            outcomes.append({"error": str(e)})
    sys.stdout.write(json.dumps(outcomes))


main()
`;
}

/** The C# program: Newtonsoft.Json reads each case into its class (DataMember names), writes it back. */
function csharpHarness(): string {
  const branches = ROOTS.map((t) => `                case ${JSON.stringify(t)}: return Trip<Millwright.Model.${t}>(text);`);
  return `using System;
using System.Collections.Generic;
using System.IO;
using Newtonsoft.Json;

public static class RoundTrip
{
    // Dates stay the strings they are: without DateParseHandling.None, Newtonsoft turns them into DateTime.
    static readonly JsonSerializerSettings Settings = new JsonSerializerSettings
    {
        DateParseHandling = DateParseHandling.None,
        MissingMemberHandling = MissingMemberHandling.Error,
    };

    static string Trip<T>(string text)
    {
        T value = JsonConvert.DeserializeObject<T>(text, Settings);
        return JsonConvert.SerializeObject(value, Settings);
    }

    static string Read(string type, string text)
    {
        switch (type)
        {
${branches.join("\n")}
            default: throw new ArgumentException("no type " + type);
        }
    }

    public static void Main(string[] args)
    {
        var cases = JsonConvert.DeserializeObject<List<List<string>>>(File.ReadAllText(args[0]));
        var outcomes = new List<string>();
        foreach (var c in cases)
        {
            string text = File.ReadAllText(c[1]);
            try
            {
                outcomes.Add("{\\"ok\\":" + Read(c[0], text) + "}");
            }
            catch (JsonException e)
            {
                outcomes.Add("{\\"error\\":" + JsonConvert.ToString(e.Message) + "}");
            }
        }
        Console.Write("[" + string.Join(",", outcomes) + "]");
    }
}
`;
}
