import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseEvent } from "@millwright/events";
import { parseProductionCount, type ProductionCount } from "@millwright/model";
import { beforeAll, describe, expect, test } from "vitest";

const dir = join(import.meta.dirname, "..");
const run = promisify(execFile);
let stdout = "";

// Runs the example exactly as `pnpm start` does: the command of its package.json's start script.
beforeAll(async () => {
  rmSync(join(dir, "out"), { recursive: true, force: true });
  const start = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const [command = "", ...args] = start.split(" ");
  expect(command).toBe("node");
  // node-opcua takes a few seconds to load; on a busy machine much longer.
  ({ stdout } = await run(process.execPath, args, { cwd: dir, timeout: 90_000 }));
}, 100_000);

describe("opcua-line-counting", () => {
  test("the adapter counts every part the line made, across the Int32 rollover and the reset", () => {
    expect(stdout).toContain("line made 160 good, 4 defective; adapter counted 160 good, 4 defective in 5 windows\n");
    const counted = stdout.split("\n").filter((l) => l.startsWith("  counted "));
    expect(counted).toEqual([
      "  counted 40 good, 1 defective for order 1000123",
      "  counted 60 good, 0 defective for order 1000123 (good rollover)",
      "  counted 35 good, 2 defective for order 1000123",
      "  counted 0 good, 0 defective for order 1000123 (good reset, defective reset)",
      "  counted 25 good, 1 defective for order 1000123",
    ]);
    expect(stdout.split("\n").filter((l) => l.startsWith("issue "))).toEqual([]);
  });

  test("the written events are valid canonical events; the counts add up to what the line made", () => {
    const events = readFileSync(join(dir, "out", "events.ndjson"), "utf8").trim().split("\n").map((l) => parseEvent(JSON.parse(l))._unsafeUnwrap());
    const counts = events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => parseProductionCount(e.data)._unsafeUnwrap() as ProductionCount);
    expect(counts).toHaveLength(5);
    expect(counts.reduce((n, c) => n + Number(c.goodQuantity.value), 0)).toBe(160);
    expect(counts.reduce((n, c) => n + Number(c.defectiveQuantity.value), 0)).toBe(4);
    for (const c of counts) expect(c).toMatchObject({ equipment: { id: "LINE1", site: { id: "1710" } }, order: { orderId: "1000123" }, goodQuantity: { unit: "H87" } });
    // The rollover window: the counter went from 2147483640 past 2^31 − 1 to −2147483596.
    expect(counts[1]?.counters).toContainEqual(expect.objectContaining({ role: "good", from: 2_147_483_640, to: -2_147_483_596, rollover: true, reset: false }));
    // Windows of one line never overlap: each starts where the previous ended.
    for (let i = 1; i < counts.length; i++) expect(counts[i]?.windowStart).toBe(counts[i - 1]?.windowEnd);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.filter((e) => e.type === "dev.millwright.machinestate.changed.v1").map((e) => (e.data as { packmlState?: string }).packmlState)).toEqual(["idle", "execute", "resetting", "execute", "complete"]);
  });
});
