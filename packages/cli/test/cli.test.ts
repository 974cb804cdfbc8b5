import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createEvent, serializeEvent } from "@millwright/events";
import { eventTypes } from "@millwright/model";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const cli = join(root, "packages", "cli", "src", "cli.ts");
const run = promisify(execFile);

/** Runs the real command (from source) and returns its exit code and output. */
async function millwright(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, ...args], { cwd: root, maxBuffer: 1 << 26 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const order = JSON.parse(readFileSync(join(root, "bench", "fixtures", "work-order-2kb.json"), "utf8"));
const event = serializeEvent(
  createEvent({ type: "dev.millwright.workorder.started.v1", source: "urn:test", data: order, time: "2026-03-02T06:12:40-08:00" })._unsafeUnwrap(),
);
const dir = mkdtempSync(join(tmpdir(), "millwright-cli-"));

describe("millwright validate", () => {
  test("valid NDJSON: exit 0 and a summary", async () => {
    const file = join(dir, "ok.ndjson");
    writeFileSync(file, `${event}\n${event}\r\n\n[${event},${event}]\n`);
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
    const stdout = r.stdout.replaceAll(dir, "<dir>").replace(/is JSON text \(.*\)$/m, "is JSON text (<JSON.parse message>)");
    expect(stdout).toMatchInlineSnapshot(`
      "<dir>/bad.ndjson:2: unsupported_specversion: /specversion: is exactly "1.0" (got "2.0")
      <dir>/bad.ndjson:3: unreadable_input: the input: is JSON text (<JSON.parse message>)
      <dir>/bad.ndjson:4: invalid_value: /data/status: "in_progress" does not fit event type dev.millwright.workorder.released.v1, whose data has /status in "released"
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
    expect(plain.stdout).toContain("not_an_event: the record is not a CloudEvent (it has no specversion); for plain canonical records pass --entity <Name>");
  });

  test("usage errors exit 2", async () => {
    expect((await millwright(["validate"])).code).toBe(2);
    expect((await millwright(["validate", "--entity", "Nope", "x"])).code).toBe(2);
    expect((await millwright(["validate", join(dir, "missing.ndjson")])).code).toBe(2);
    expect((await millwright(["frobnicate"])).code).toBe(2);
    expect((await millwright(["validate", "--colour", "x"])).code).toBe(2);
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
    const same = await millwright(["diff", "packages/model/schemas/bundle.schema.json", "schemas"]);
    expect(same).toMatchObject({ code: 0 });
    const bundle = JSON.parse(readFileSync(join(root, "packages/model/schemas/bundle.schema.json"), "utf8"));
    delete bundle.$defs.WorkOrder.properties.priority;
    writeFileSync(join(dir, "narrowed.json"), JSON.stringify(bundle));
    const broken = await millwright(["diff", "schemas", join(dir, "narrowed.json")]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain("BREAKING    WorkOrder/properties/priority: property priority was removed (or renamed) [property_removed]");
  });
});
