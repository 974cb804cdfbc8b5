import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serializeEvent } from "@millwright/events";
import { describe, expect, test } from "vitest";
import { commandHelp, commands, overviewHelp, type CommandSpec } from "../src/help.js";
import { millwright, millwrightProcess, root } from "./run-cli.js";


const order = JSON.parse(readFileSync(join(root, "bench", "fixtures", "work-order-2kb.json"), "utf8"));
const event = JSON.parse(
  serializeEvent(createEvent({ type: "dev.millwright.workorder.started.v1", source: "urn:test", data: order, time: "2026-03-02T06:12:40-08:00" })._unsafeUnwrap()),
) as Record<string, unknown> & { data: { plannedQuantity: { value: string } } };
const dir = mkdtempSync(join(tmpdir(), "millwright-help-"));
const commandNames = ["validate", "catalog", "diff", "codegen", "align", "asyncapi"];

describe("millwright --help, <command> --help and --version", () => {
  test("--help, -h and help print the overview to standard output and exit 0", async () => {
    const [long, word] = await Promise.all([millwright(["--help"]), millwright(["help"])]);
    expect([long.code, word.code, long.stderr]).toEqual([0, 0, ""]);
    expect(word.stdout).toBe(long.stdout);
    expect(long.stdout).toBe(`${overviewHelp()}\n`);
    expect(long.stdout).toMatchInlineSnapshot(`
      "millwright — the Millwright contract on the command line

      Usage: millwright <command> [options]

      Commands:
        validate   check CloudEvents or canonical records against the catalog
        catalog    print the event catalog
        diff       compare two versions of the contract; exit 1 on a breaking change
        codegen    write types for other languages from the canonical schemas
        align      judge a log of events with the alignment rules; exit 1 on a breach
        asyncapi   write the AsyncAPI 3.0 document of the event catalog over one transport
        workflows  list, show, signal, retry or cancel workflow instances

      Options:
        -h, --help     show this help (millwright <command> --help: the command's options)
            --version  print the version

      Exit codes:
        0    all good
        1    invalid input, a breaking change, or a breach
        2    usage error, or an input that cannot be read
        141  standard output was closed before the end (as by | head)
      "
    `);
  });

  test("validate --help: options, examples and exit codes", async () => {
    const r = await millwright(["validate", "--help"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Usage: millwright validate [options] <file|->...

      Validate CloudEvents (structured, or batches as JSON arrays) or, with --entity, plain
      canonical records. .ndjson/.jsonl files and - (standard input) are read line by line in flat
      memory; .json files are one document (an object or an array). Each issue is printed as
      file:line:column: error[code]: message, at the line and column of the offending value.
      An event's data is checked against its type even when its envelope is wrong too.

      Options:
            --entity <Name>     judge plain canonical records of this entity (WorkOrder, Batch, …)
            --format text|json  print text for people or JSON for tools (default: text)
            --progress          show a running count on standard error (on by default on a terminal)
        -h, --help              show this help

      Examples:
        millwright validate captured-events.ndjson
        millwright validate --entity WorkOrder orders.json
        millwright validate --format json - < stream.ndjson

      Exit codes:
        0    every record is valid
        1    a record is invalid
        2    usage error, or an input cannot be read
        141  standard output was closed before the end (as by | head)
      "
    `);
  });

  test("catalog, diff, codegen and align help texts", () => {
    const [catalog, diff, codegen, align] = ["catalog", "diff", "codegen", "align"].map((c) => `${commandHelp(commands.find((spec) => spec.name === c) as CommandSpec)}\n`);
    expect(catalog).toMatchInlineSnapshot(`
      "Usage: millwright catalog [options]

      Print the event catalog: each event type with its entity, subject and partition key.

      Options:
            --format text|json  print text for people or JSON for tools (default: text)
        -h, --help              show this help

      Examples:
        millwright catalog
        millwright catalog --format json

      Exit codes:
        0    the catalog was printed
        2    usage error
        141  standard output was closed before the end (as by | head)
      "
    `);
    expect(diff).toMatchInlineSnapshot(`
      "Usage: millwright diff [options] <old> <new>

      Compare two versions of the contract (bundle files or schema folders). Removed or renamed
      types and properties, new required properties, narrowed enums, types, bounds and patterns,
      changed natural keys and removed event types or transitions are breaking. New or narrowed
      event data requirements and a version step without its upcaster are breaking too; each event
      type a breaking change reaches is named with the version it needs.
      Given two plant profiles (docs/federation.md), it loads both against the global contract
      (a profile that conflicts with it is refused, exit 1) and classifies their changes: a new
      requirement or a narrowed field breaks producers, a removed namespace or field breaks consumers.

      Options:
            --format text|json  print text for people or JSON for tools (default: text)
        -h, --help              show this help

      Examples:
        millwright diff compat/baseline.schema.json schemas
        millwright diff --format json old.schema.json new.schema.json
        millwright diff plant-1710.profile.json plant-1710.next.profile.json

      Exit codes:
        0    no breaking change
        1    a breaking change
        2    usage error, or a contract cannot be read
        141  standard output was closed before the end (as by | head)
      "
    `);
    expect(codegen).toMatchInlineSnapshot(`
      "Usage: millwright codegen --out <dir> --lang <language> [options]

      Write types for other services from the canonical schemas (all entities, or the named
      entities, schema titles or event types). Timestamps and decimals stay exact strings.

      Options:
            --out <dir>                      the folder to write into (required)
            --lang ts|csharp|java|python|go  the language to write (required)
            --types <A,B,…>                  only these entities, schema titles or event types
            --schemas <bundle|dir>           another schema bundle or folder (default: the installed catalog)
            --profile <file>                 a plant profile: its extension namespaces become types (ts only)
        -h, --help                           show this help

      Examples:
        millwright codegen --lang go --out gen/
        millwright codegen --lang ts --out gen/ --types WorkOrder,dev.millwright.batch.released.v1
        millwright codegen --lang ts --out gen/ --profile profiles/plant-1710.profile.json

      Exit codes:
        0    the files were written
        2    usage error, or the bundle cannot be read or turned into code
        141  standard output was closed before the end (as by | head)
      "
    `);
    expect(align).toMatchInlineSnapshot(`
      "Usage: millwright align [options] <events.ndjson|->

      Judge a log of canonical events with the built-in alignment rules as of --at and print, per
      rule, the keys open, breached and resolved and the worst lateness, then each breach. Read line
      by line in flat memory; lines that are not usable events are reported on standard error as
      file:line:column: error[code]: message and left out.

      Options:
            --at <time>         the report time, RFC 3339 with an offset (default: the latest event)
            --html <file>       also write a self-contained HTML page with a timeline per work order
            --format text|json  print text for people or JSON for tools (default: text)
        -h, --help              show this help

      Examples:
        millwright align events.ndjson
        millwright align --at 2026-03-02T15:00:00Z --html report.html events.ndjson

      Exit codes:
        0    nothing is breached
        1    a rule is breached
        2    usage error, an input cannot be read, or a line is not a usable event
        141  standard output was closed before the end (as by | head)
      "
    `);
  });

  test("every command prints its help for -h after other arguments, even wrong ones, and for `help <command>`; -- ends the options", async () => {
    const runs = await Promise.all([...commandNames.map((c) => millwright([c, "x", "--frobnicate", "-h"])), millwright(["help", "diff"]), millwright(["validate", "--", "--help"])]);
    for (let i = 0; i < commandNames.length; i++) {
      const spec = commands.find((c) => c.name === commandNames[i]) as CommandSpec;
      expect(runs[i], spec.name).toEqual({ code: 0, stdout: `${commandHelp(spec)}\n`, stderr: "" });
    }
    expect(runs[commandNames.length]?.stdout).toBe(`${commandHelp(commands.find((c) => c.name === "diff") as CommandSpec)}\n`);
    // After --, "--help" is a file name: validate tries to read it (exit 2, a read error).
    const literal = runs[commandNames.length + 1];
    expect(literal?.code).toBe(2);
    expect(literal?.stderr).toContain("--help: error[unreadable_input]: cannot be read: ENOENT");
  }, 180_000);

  test("--version prints the package's version", async () => {
    const r = await millwright(["--version"]);
    const { version } = JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8")) as { version: string };
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  // The other tests call main() in this process; the bin entry must be no more than main() with
  // the process's streams, and its result the process's exit code.
  test("the installed entry (a process) prints what main() prints and exits with its code", async () => {
    const lines = [["--version"], ["valdiate", "x.ndjson"], ["catalog", "--format", "jsn"]];
    const processes = await Promise.all(lines.map((args) => millwrightProcess(args)));
    const inProcess = await Promise.all(lines.map((args) => millwright(args)));
    expect(processes.map((r) => r.code)).toEqual([0, 2, 2]);
    expect(processes).toEqual(inProcess);
  }, 120_000);
});

describe("millwright: did you mean", () => {
  test("a mistyped command, option, --format, --entity or --lang value names the closest one; exit 2", async () => {
    const runs = await Promise.all([
      millwright(["valdiate", "x.ndjson"]),
      millwright(["frobnicate"]),
      millwright(["--verison"]),
      millwright(["validate", "--fromat", "json", "x.ndjson"]),
      millwright(["catalog", "--format", "jsn"]),
      millwright(["validate", "--entity", "WorkOrdr", "x.ndjson"]),
      millwright(["codegen", "--lang", "goo", "--out", join(dir, "gen")]),
      millwright(["codegen", "--lang", "go", "--out", join(dir, "gen"), "--types", "WorkOrdr"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.stdout)).toEqual(runs.map(() => ""));
    expect(runs.map((r) => r.stderr).join("")).toMatchInlineSnapshot(`
      "millwright: error[usage]: unknown command "valdiate"; did you mean "validate"?
      Run \`millwright --help\` for the commands.
      millwright: error[usage]: unknown command "frobnicate"
      Run \`millwright --help\` for the commands.
      millwright: error[usage]: unknown option "--verison"; did you mean "--version"?
      Run \`millwright --help\` for the commands.
      millwright: error[usage]: validate has no option "--fromat"; did you mean "--format"?
      Run \`millwright validate --help\` for its options.
      millwright: error[usage]: --format must be text or json, not "jsn"; did you mean "json"?
      Run \`millwright catalog --help\` for its options.
      millwright: error[usage]: --entity "WorkOrdr" is not an entity; did you mean "WorkOrder"?
      Run \`millwright validate --help\` for its options.
      millwright: error[usage]: --lang must be one of ts, csharp, java, python, go, not "goo"; did you mean "go"?
      Run \`millwright codegen --help\` for its options.
      millwright: error[usage]: "WorkOrdr" is neither an entity, a schema title nor an event type of this catalog; did you mean "WorkOrder"?
      Run \`millwright codegen --help\` for its options.
      "
    `);
  }, 180_000);
});

describe("millwright validate: compiler-style diagnostics", () => {
  test("a .json batch: each issue at the real line and column of its value, not the array index", async () => {
    const unknownType = { ...structuredClone(event), type: "dev.millwright.workorder.relased.v1" };
    const negative = structuredClone(event);
    negative.data.plannedQuantity.value = "-5";
    const file = join(dir, "batch.json");
    const text = JSON.stringify([event, unknownType, negative], null, 2);
    writeFileSync(file, text);
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout.replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "<dir>/batch.json:211:13: error[unknown_event_type]: type "dev.millwright.workorder.relased.v1" is not in the catalog; did you mean "dev.millwright.workorder.released.v1"? (item 1 of the batch)
      <dir>/batch.json:434:18: error[negative_quantity]: /data/plannedQuantity/value: "-5" is negative; canonical quantities are not negative (the direction is said by the entity) (item 2 of the batch)
      3 records: 1 valid, 2 invalid
      "
    `);
    // Each line:column points at the offending value in the file.
    const lines = text.split("\n");
    const at = (diagnostic: string): string => {
      const [, line, column] = /:(\d+):(\d+): error/.exec(diagnostic) ?? [];
      return (lines[Number(line) - 1] ?? "").slice(Number(column) - 1);
    };
    const [typeLine, quantityLine] = r.stdout.trim().split("\n");
    expect(at(typeLine ?? "")).toBe('"dev.millwright.workorder.relased.v1",');
    expect(at(quantityLine ?? "")).toMatch(/^"-5"/);
  });

  test("the data is judged even when the envelope is wrong too: both are reported", async () => {
    const both = structuredClone(event);
    both["specversion"] = "2.0";
    both.data.plannedQuantity.value = "-5";
    const line = JSON.stringify(both);
    const r = await millwright(["validate", "-"], `${JSON.stringify(event)}\n${line}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatchInlineSnapshot(`
      "-:2:16: error[unsupported_specversion]: attribute specversion is "2.0"; it must be exactly "1.0"
      -:2:518: error[negative_quantity]: /data/plannedQuantity/value: "-5" is negative; canonical quantities are not negative (the direction is said by the entity)
      2 records: 1 valid, 1 invalid
      "
    `);
    const columns = [...r.stdout.matchAll(/^-:2:(\d+):/gm)].map((m) => line.slice(Number(m[1]) - 1, Number(m[1]) + 4));
    expect(columns).toEqual(['"2.0"', '"-5",']);
  });

  test("--format json: every issue carries its line and column, and a .json record its starting line and batch item", async () => {
    const negative = structuredClone(event);
    negative.data.plannedQuantity.value = "-5";
    const file = join(dir, "lines.json");
    writeFileSync(file, `[\n${JSON.stringify(event)},\n\n${JSON.stringify(negative)}\n]\n`);
    const r = await millwright(["validate", "--format", "json", file]);
    expect(r.code).toBe(1);
    const [record, summary] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown);
    expect(record).toMatchObject({ record: 4, item: 1, valid: false, issues: [{ code: "negative_quantity", path: "/1/data/plannedQuantity/value", line: 4 }] });
    expect(summary).toEqual({ summary: { records: 2, valid: 1, invalid: 1 } });
  });
});

describe("millwright: exit codes (0 ok, 1 invalid input / breaking change / breach, 2 usage or read error)", () => {
  test("0, 1 and 2 for validate; 2 for a usage error and for an unreadable input of every command", async () => {
    const valid = join(dir, "valid.ndjson");
    writeFileSync(valid, `${JSON.stringify(event)}\n`);
    const invalid = join(dir, "invalid.ndjson");
    writeFileSync(invalid, `{"specversion":"1.0"}\n`);
    const missing = join(dir, "missing.ndjson");
    const runs = await Promise.all([
      millwright(["validate", valid]),
      millwright(["validate", invalid]),
      millwright(["validate"]),
      millwright(["validate", missing]),
      millwright(["catalog", "--format", "yaml"]),
      millwright(["catalog", "extra"]),
      millwright(["diff", missing, join(root, "schemas")]),
      millwright(["codegen", "--lang", "go"]),
      millwright(["codegen", "--lang", "go", "--out", join(dir, "gen"), "--schemas", missing]),
      millwright(["align", missing]),
      millwright([]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(runs.map((r) => r.stdout.split("\n")[0])).toEqual(["1 records: 1 valid, 0 invalid", expect.stringContaining("error[missing_attribute]"), "", "", "", "", "", "", "", "", ""]);
    expect(runs.slice(2).map((r) => r.stderr.replaceAll(dir, "<dir>").replace(/ENOENT.*$/gm, "ENOENT …").split("\n")[0]).join("\n")).toMatchInlineSnapshot(`
      "millwright: error[usage]: validate needs at least one file, or - for standard input
      <dir>/missing.ndjson: error[unreadable_input]: cannot be read: ENOENT …
      millwright: error[usage]: --format must be text or json, not "yaml"
      millwright: error[usage]: catalog takes no file (got "extra")
      millwright: error[unreadable_input]: <dir>/missing.ndjson: no such file or folder
      millwright: error[usage]: codegen needs --out <dir> and --lang <language>
      millwright: error[unreadable_input]: <dir>/missing.ndjson: no such file or folder
      <dir>/missing.ndjson: error[unreadable_input]: cannot be read: ENOENT …
      millwright — the Millwright contract on the command line"
    `);
  }, 240_000);
});
