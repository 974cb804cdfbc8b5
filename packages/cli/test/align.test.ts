import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serializeEvent } from "@millwright/events";
import { describe, expect, test } from "vitest";
import { millwright, root } from "./run-cli.js";


const order = JSON.parse(readFileSync(join(root, "bench", "fixtures", "work-order-2kb.json"), "utf8"));
const SAP = "urn:millwright:sap:S4PCLNT100";
const MES = "urn:millwright:mes:line-fab";

/** One work order event as an NDJSON line, at hh:mm UTC on 2026-03-02. */
function line(kind: "released" | "started", orderId: string, hhmm: string): string {
  const time = `2026-03-02T${hhmm}:00Z`;
  const data = { ...order, orderId, status: kind === "released" ? "released" : "in_progress", revision: `20260302${hhmm.replace(":", "")}00` };
  const created = createEvent({ type: `dev.millwright.workorder.${kind}.v1`, source: kind === "released" ? SAP : MES, time, data });
  return serializeEvent(created._unsafeUnwrap());
}

const dir = mkdtempSync(join(tmpdir(), "millwright-align-"));
const write = (name: string, lines: readonly string[]): string => {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
};

// 1000200 is started on time; 1000201 is released at 06:30 and never started (due 10:30); the log ends at 12:00.
const breachLog = [line("released", "1000200", "06:00"), line("started", "1000200", "07:00"), line("released", "1000201", "06:30"), line("released", "1000202", "12:00")];

describe("millwright align", () => {
  test("a log without breaches: the per-rule table, exit 0", async () => {
    const r = await millwright(["align", write("clean.ndjson", [line("released", "1000100", "06:00"), line("started", "1000100", "07:00")])]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Judged at 2026-03-02 07:00 UTC (the latest event in the log)");
    expect(r.stdout).toMatch(/^workorder-started +4 h +0 +1 +0 +0 +—$/m);
    expect(r.stdout).toContain("Breached: none");
  });

  test("a breach: its row with the lateness and due time, exit 1", async () => {
    const r = await millwright(["align", write("breach.ndjson", breachLog)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^workorder-started +4 h +1 +1 +1 +0 +1 h 30 min \(1000201\)$/m);
    expect(r.stdout).toMatch(/^workorder-started +1000201 +1710 +missing +1 h 30 min +2026-03-02 10:30 UTC$/m);
  });

  test("--at judges the log at that time and leaves later events out", async () => {
    const r = await millwright(["align", "--at", "2026-03-02T10:00:00+01:00", write("at.ndjson", breachLog)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Judged at 2026-03-02 09:00 UTC (the time given)");
    expect(r.stdout).toContain("Events: 1 after the report time left out");
    expect(r.stdout).toMatch(/^workorder-started +4 h +1 +1 +0 +0 +—$/m);
  });

  test("--format json prints the report as JSON; - reads standard input", async () => {
    const r = await millwright(["align", "--format", "json", "-"], `${breachLog.join("\n")}\n`);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { at: string; atSource: string; totals: unknown; findings: { status: string; finding: { key: string; latenessMs: number } }[] };
    expect(report).toMatchObject({ at: "2026-03-02T12:00:00.000Z", atSource: "latest-event" });
    expect(report.findings.filter((f) => f.status === "breached").map((f) => [f.finding.key, f.finding.latenessMs])).toEqual([["1000201", 90 * 60_000]]);
  });

  test("--html writes one self-contained page with the tables and a timeline per work order", async () => {
    const html = join(dir, "report.html");
    const r = await millwright(["align", "--html", html, write("html.ndjson", breachLog)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`millwright: wrote the HTML report to ${html}\n`);
    expect(existsSync(html)).toBe(true);
    const page = readFileSync(html, "utf8");
    expect(page).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page.match(/<svg /g)).toHaveLength(3);
    expect(page).toMatch(/<title id="[^"]+">Timeline of work order 1000201<\/title>/);
    expect(page).not.toMatch(/<script|<link|src=|href=/);
  });

  test("a batch line is judged from its items' own text, and as a batch: a fractional extension and a repeated event are left out", async () => {
    const [released, started] = [breachLog[0] as string, breachLog[1] as string];
    const fractional = `{"myext":1.0,${started.slice(1)}`;
    const file = write("raw-batch.ndjson", [`[${released},${fractional}]`, `[${started},${started}]`, ...breachLog.slice(2)]);
    const r = await millwright(["align", file]);
    expect(r.code).toBe(2);
    expect(r.stderr.replaceAll(dir, "<dir>").replace(/id "[^"]+"/, 'id "<id>"')).toMatchInlineSnapshot(`
      "<dir>/raw-batch.ndjson:1:2674: error[invalid_attribute_type]: attribute myext is "1.0"; an Integer is written without fraction or exponent (item 1 of the batch)
      <dir>/raw-batch.ndjson:2:2690: error[duplicate_event]: the event (source "urn:millwright:mes:line-fab", id "<id>") repeats item 0 of this batch; a batch carries each event once (source + id identify an event) (item 1 of the batch)
      millwright: 2 record(s) of <dir>/raw-batch.ndjson were not usable events and were left out (see above)
      "
    `);
  });

  test("a log that starts with a UTF-8 BOM is read without it; a line that is not UTF-8 is reported", async () => {
    const bom = join(dir, "bom.ndjson");
    writeFileSync(bom, `\ufeff${breachLog.join("\n")}\n`);
    const clean = await millwright(["align", bom]);
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(1);
    const bad = join(dir, "latin1.ndjson");
    writeFileSync(bad, Buffer.concat([Buffer.from(`${breachLog.join("\n")}\n`), Buffer.from('{"specversion":"1.0","source":"urn:m\xfcller"}\n', "latin1")]));
    const r = await millwright(["align", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.replaceAll(dir, "<dir>").split("\n")[0]).toBe("<dir>/latin1.ndjson:5:1: error[unreadable_input]: the line is not UTF-8 text");
  });

  test("lines that are not usable events are reported with their line numbers and left out: the report still prints, exit 2", async () => {
    const untimed = JSON.parse(line("released", "1000300", "08:00"));
    delete untimed.time;
    const file = write("dirty.ndjson", [breachLog[0] as string, "{not json", JSON.stringify(untimed), "", `[${breachLog[1]},{"specversion":"1.0"}]`, ...breachLog.slice(2)]);
    const r = await millwright(["align", file]);
    expect(r.code).toBe(2);
    // JSON.parse's own wording differs between Node versions; the rest is ours and is pinned.
    const stderr = r.stderr.replaceAll(dir, "<dir>").replace(/is not JSON \(.*\)$/m, "is not JSON (<JSON.parse message>)");
    expect(stderr).toMatchInlineSnapshot(`
      "<dir>/dirty.ndjson:2:2: error[unreadable_input]: the record is not JSON (<JSON.parse message>)
      <dir>/dirty.ndjson:3:1: error[missing_time]: /time: event 35e869fe-ae4c-53ef-844b-61e14ea060c5 from urn:millwright:sap:S4PCLNT100 has no time; alignment needs when each fact happened
      <dir>/dirty.ndjson:5:2664: error[missing_attribute]: attribute id is missing; id is required (item 1 of the batch)
      millwright: 3 record(s) of <dir>/dirty.ndjson were not usable events and were left out (see above)
      "
    `);
    expect(r.stdout).toMatch(/^workorder-started +1000201 +1710 +missing/m);
  });

  test("usage errors exit 2", async () => {
    const [none, two, at, format] = await Promise.all([
      millwright(["align"]),
      millwright(["align", "a.ndjson", "b.ndjson"]),
      millwright(["align", "--at", "2026-03-02 15:00", "x.ndjson"]),
      millwright(["align", "--format", "xml", "x.ndjson"]),
    ]);
    expect([none.code, two.code, at.code, format.code]).toEqual([2, 2, 2, 2]);
    expect(at.stderr.split("\n")[0]).toBe('millwright: error[usage]: --at "2026-03-02 15:00" is not an RFC 3339 time with an offset, such as 2026-03-02T15:00:00Z');
    expect(format.stderr.split("\n")[0]).toBe('millwright: error[usage]: --format must be text or json, not "xml"');
    expect(none.stderr).toBe("millwright: error[usage]: align needs exactly one file, or - for standard input (got 0)\nRun `millwright align --help` for its options.\n");
  });

  test("input errors exit 2: a missing file, an empty log, an HTML file that cannot be written", async () => {
    const [missing, empty, html] = await Promise.all([
      millwright(["align", join(dir, "missing.ndjson")]),
      millwright(["align", write("empty.ndjson", [])]),
      millwright(["align", "--html", join(dir, "no", "such", "dir.html"), write("ok.ndjson", breachLog)]),
    ]);
    expect([missing.code, empty.code, html.code]).toEqual([2, 2, 2]);
    expect(missing.stderr).toContain("missing.ndjson: error[unreadable_input]: cannot be read: ENOENT");
    expect(empty.stderr.replaceAll(dir, "<dir>")).toBe(
      "<dir>/empty.ndjson: error[no_time]: the log has no event with a usable time (0 read) and no report time (at) was given: there is no time to judge it at\n",
    );
    expect(html.stderr).toContain("dir.html: error[unwritable_output]: cannot be written: ENOENT");
  });
});
