import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serializeEvent } from "@millwright/events";
import { eventTypes } from "@millwright/model";
import { describe, expect, test } from "vitest";
import { cli, millwright, root } from "./run-cli.js";


const order = JSON.parse(readFileSync(join(root, "bench", "fixtures", "work-order-2kb.json"), "utf8"));
const event = serializeEvent(
  createEvent({ type: "dev.millwright.workorder.started.v1", source: "urn:test", data: order, time: "2026-03-02T06:12:40-08:00" })._unsafeUnwrap(),
);
const other = serializeEvent(
  createEvent({ type: "dev.millwright.workorder.started.v1", source: "urn:test", data: { ...order, orderId: "1000999" }, time: "2026-03-02T06:12:40-08:00" })._unsafeUnwrap(),
);
const dir = mkdtempSync(join(tmpdir(), "millwright-cli-"));

describe("millwright validate", () => {
  test("valid NDJSON: exit 0 and a summary", async () => {
    const file = join(dir, "ok.ndjson");
    writeFileSync(file, `${event}\n${event}\r\n\n[${event},${other}]\n`);
    const r = await millwright(["validate", file]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toBe("4 records: 4 valid, 0 invalid");
  });

  test("invalid records: exit 1, each issue on its own line with file, record, code and path", async () => {
    const file = join(dir, "bad.ndjson");
    const bad = JSON.parse(event);
    bad.data.plannedQuantity.value = "-5";
    bad.specversion = "2.0";
    const wrongStatus = JSON.parse(event);
    wrongStatus.type = "dev.millwright.workorder.released.v1";
    writeFileSync(file, [event, JSON.stringify(bad), "{not json", JSON.stringify(wrongStatus)].join("\n"));
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    // JSON.parse's own wording differs between Node versions; the rest is ours and is pinned.
    const stdout = r.stdout.replaceAll(dir, "<dir>").replace(/is not JSON \(.*\)$/m, "is not JSON (<JSON.parse message>)");
    expect(stdout).toMatchInlineSnapshot(`
      "<dir>/bad.ndjson:2:16: error[unsupported_specversion]: attribute specversion is "2.0"; it must be exactly "1.0"
      <dir>/bad.ndjson:2:518: error[negative_quantity]: /data/plannedQuantity/value: "-5" is negative; canonical quantities are not negative (the direction is said by the entity)
      <dir>/bad.ndjson:3:2: error[unreadable_input]: the record is not JSON (<JSON.parse message>)
      <dir>/bad.ndjson:4:478: error[invalid_value]: /data/status: "in_progress" does not fit event type dev.millwright.workorder.released.v1, whose data has /status in "released"
      4 records: 1 valid, 3 invalid
      "
    `);
  });

  test("--format json writes one JSON line per invalid record and a summary", async () => {
    const r = await millwright(["validate", "--format", "json", "-"], `${event}\n{"specversion":"1.0"}\n`);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ summary: { records: 2, valid: 1, invalid: 1 } });
    expect(lines[0]).toMatchObject({ source: "-", record: 2, valid: false });
  });

  test("--entity judges plain records, such as the schema examples", async () => {
    const valid = await millwright(["validate", "--entity", "WorkOrder", join(root, "schemas/examples/work-order/sap-production-order-in-progress.json")]);
    expect(valid).toMatchObject({ code: 0 });
    const plain = await millwright(["validate", join(root, "schemas/examples/work-order/sap-production-order-in-progress.json")]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain("error[not_an_event]: the record is not a CloudEvent (it has no specversion); for plain canonical records pass --entity <Name>");
  });

  test("usage errors exit 2", async () => {
    const runs = await Promise.all([
      millwright(["validate"]),
      millwright(["validate", "--entity", "Nope", "x"]),
      millwright(["validate", join(dir, "missing.ndjson")]),
      millwright(["frobnicate"]),
      millwright(["validate", "--colour", "x"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
  }, 180_000);
});

/** `event` with `member` written into its text after the opening brace: raw text, never re-serialised. */
const withMember = (text: string, member: string): string => `{${member},${text.slice(1)}`;

describe("millwright validate: batches are judged from their original text, as batches", () => {
  test("a batch line whose events repeat a source + id: the repeat is invalid, naming both items", async () => {
    const file = join(dir, "dup-batch.ndjson");
    writeFileSync(file, `[${event},${event}]\n`);
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout.replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "<dir>/dup-batch.ndjson:1:2676: error[duplicate_event]: the event (source "urn:test", id "${JSON.parse(event).id}") repeats item 0 of this batch; a batch carries each event once (source + id identify an event) (item 1 of the batch)
      2 records: 1 valid, 1 invalid
      "
    `);
  });

  test("a batch item with a non-integer extension value or a repeated attribute: invalid, as parseEvent judges the item's own text", async () => {
    const file = join(dir, "raw-batch.ndjson");
    writeFileSync(file, `[${event},${withMember(event, '"myext":1.0')},${withMember(event, '"subject":"x"')}]\n`);
    const r = await millwright(["validate", "--format", "json", file]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { record: number; issues: { code: string; path: string }[] });
    expect(lines.slice(0, -1).map((l) => l.issues.map((i) => [i.code, i.path]))).toEqual([
      [["invalid_attribute_type", "/1/myext"]],
      [["duplicate_attribute", "/2/subject"]],
    ]);
    expect(lines.at(-1)).toEqual({ summary: { records: 3, valid: 1, invalid: 2 } });
  });

  test("a .json document that is a batch is judged the same way", async () => {
    const file = join(dir, "batch.json");
    writeFileSync(file, `[\n  ${event},\n  ${withMember(event, '"myext": 2.0')}\n]\n`);
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    // Line 3, column 13 of the file: where the fractional Integer is written (not the item's index).
    expect(r.stdout).toContain('batch.json:3:13: error[invalid_attribute_type]: attribute myext is "2.0"; an Integer is written without fraction or exponent (item 1 of the batch)');
    expect(r.stdout).toContain("2 records: 1 valid, 1 invalid");
  });
});

describe("millwright validate: what reaches the terminal, BOMs, invalid UTF-8 and closed pipes", () => {
  test("control characters from the input and the file name are escaped and long values are cut", async () => {
    const file = join(dir, "evil\u001b]0;title\u0007.ndjson");
    writeFileSync(file, `\u001b]2;pwned\u0007\u001b[2J${"x".repeat(100_000)}\n{"specversion":"1.0","id":"\u009b31m${"y".repeat(5000)}"}\n`);
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toMatch(/evil\\u001b\]0;title\\u0007\.ndjson:1:1: error\[unreadable_input\]:/);
    expect(r.stdout).toContain("\\u001b]2;pwned\\u0007");
    for (const line of r.stdout.split("\n")) expect(line.length).toBeLessThan(1000);
  });

  test("a file that starts with a UTF-8 BOM (NDJSON, .json, standard input) is read without it", async () => {
    const ndjson = join(dir, "bom.ndjson");
    writeFileSync(ndjson, `\ufeff${event}\n${event}\n`);
    const json = join(dir, "bom.json");
    writeFileSync(json, `\ufeff${event}`);
    const [a, b, c] = await Promise.all([millwright(["validate", ndjson]), millwright(["validate", json]), millwright(["validate", "-"], `\ufeff${event}\n`)]);
    expect([a.code, b.code, c.code, a.stdout, b.stdout, c.stdout]).toEqual([0, 0, 0, "2 records: 2 valid, 0 invalid\n", "1 records: 1 valid, 0 invalid\n", "1 records: 1 valid, 0 invalid\n"]);
  });

  test("a BOM inside a file, and bytes that are not UTF-8, are invalid with a clear message", async () => {
    const file = join(dir, "inner-bom.ndjson");
    writeFileSync(file, Buffer.concat([Buffer.from(`${event}\n\ufeff${event}\n`), Buffer.from('{"specversion":"1.0","id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    const r = await millwright(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout.replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "<dir>/inner-bom.ndjson:2:1: error[unreadable_input]: the line starts with a byte order mark (U+FEFF); only the start of a file may have one
      <dir>/inner-bom.ndjson:3:1: error[unreadable_input]: the line is not UTF-8 text
      3 records: 1 valid, 2 invalid
      "
    `);
  });

  test("a reader that stops early (| head -1): the command exits quietly with 141, no EPIPE stack", async () => {
    const file = join(dir, "many-bad.ndjson");
    writeFileSync(file, `${'{"specversion":"2.0"}\n'.repeat(20_000)}`);
    // A closed pipe and the exit code it leads to exist only for a process: the bin entry runs in one.
    const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, "validate", file], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const first = await new Promise<string>((resolve) => {
      let got = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        got += d;
        if (got.includes("\n")) {
          child.stdout.destroy();
          resolve(got.split("\n")[0]!);
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(first).toContain("many-bad.ndjson:1:16: error[unsupported_specversion]:");
    expect(stderr).toBe("");
    expect(code).toBe(141);
  });
});

describe("millwright catalog and diff", () => {
  test("catalog lists every event type, as text and as JSON", async () => {
    const text = await millwright(["catalog"]);
    expect(text.stdout).toMatch(/^dev\.millwright\.workorder\.released\.v1 +WorkOrder +\/orderId +\/site\/id \+ \/orderId$/m);
    const json = JSON.parse((await millwright(["catalog", "--format", "json"])).stdout) as { type: string }[];
    expect(json.map((e) => e.type)).toEqual([...eventTypes]);
  });

  test("diff exits 0 for the same contract and 1 for a breaking change", async () => {
    const same = await millwright(["diff", join(root, "packages/model/schemas/bundle.schema.json"), join(root, "schemas")]);
    expect(same).toMatchObject({ code: 0 });
    const bundle = JSON.parse(readFileSync(join(root, "packages/model/schemas/bundle.schema.json"), "utf8"));
    delete bundle.$defs.WorkOrder.properties.priority;
    writeFileSync(join(dir, "narrowed.json"), JSON.stringify(bundle));
    const broken = await millwright(["diff", join(root, "schemas"), join(dir, "narrowed.json")]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("BREAKING    WorkOrder/properties/priority: property priority was removed (or renamed) [property_removed]");
  });
});
