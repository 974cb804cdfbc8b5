// The consumer's contract test, as it runs in CI: the MES's export mapping is held to the canonical
// contract with the @millwright/testing matchers, and the events the export job writes are checked
// with `millwright validate`, the same command a pipeline step runs on captured traffic.
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { buildWorkOrder } from "@millwright/testing";
import { beforeAll, describe, expect, test } from "vitest";
import { toCanonicalWorkOrder, toReleasedEvent, type MesOrderRow } from "../src/mes-export.js";

const dir = join(import.meta.dirname, "..");
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const rows = JSON.parse(readFileSync(join(dir, "fixtures", "mes-orders.json"), "utf8")) as MesOrderRow[];

/**
 * `millwright validate …` as a consumer runs it (`npx millwright validate …` after
 * `npm i -D @millwright/cli`). In this repository the command runs from the CLI package's source,
 * so the test needs no build.
 */
async function millwright(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  const cli = join(dirname(require.resolve("@millwright/cli/package.json")), "src", "cli.ts");
  try {
    const { stdout } = await run(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, ...args], { cwd: dir, timeout: 30_000 });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe("the MES export holds to the canonical contract", () => {
  test.each(rows.map((r) => [r.order_no, r] as const))("order %s maps to a canonical WorkOrder", (_, row) => {
    expect(toCanonicalWorkOrder(row)).toBeCanonical("WorkOrder");
  });

  test.each(rows.map((r) => [r.order_no, r] as const))("order %s makes a canonical released event", (_, row) => {
    const event = toReleasedEvent(row);
    expect(event.isOk() ? event.value : event.error).toBeCanonicalEvent("dev.millwright.workorder.released.v1");
  });

  test("a fractional quantity stays an exact decimal", () => {
    const row = rows.find((r) => r.order_no === "2000001");
    expect(toCanonicalWorkOrder(row as MesOrderRow)).toMatchObject({ plannedQuantity: { value: "255.5", unit: "MTR" }, components: [{ requiredQuantity: { value: "12.25", unit: "KGM" } }] });
  });

  test("the matcher names the field, the value and the rule when a mapping goes wrong", () => {
    const wrong = { ...buildWorkOrder({ orderId: "1000125" }), plannedQuantity: { value: "1e3", unit: "H87" } };
    expect(() => expect(wrong).toBeCanonical("WorkOrder")).toThrowError(/invalid_format: \/plannedQuantity\/value: "1e3" is not in the required format/);
  });
});

describe("millwright validate in CI", () => {
  let started: { stdout: string };
  let valid: { code: number; stdout: string };
  let broken: { code: number; stdout: string };
  beforeAll(async () => {
    rmSync(join(dir, "out"), { recursive: true, force: true });
    // The export job, exactly as `pnpm start` runs it.
    const start = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
    const [command = "", ...args] = start.split(" ");
    expect(command).toBe("node");
    started = await run(process.execPath, args, { cwd: dir, timeout: 30_000 });
    [valid, broken] = await Promise.all([millwright(["validate", "out/events.ndjson"]), millwright(["validate", "fixtures/broken-events.ndjson"])]);
  }, 60_000);

  test("the export job writes one event per order, and every one is valid", () => {
    expect(started.stdout).toContain("wrote out/events.ndjson (3 events, 0 orders refused)\n");
    expect(valid).toEqual({ code: 0, stdout: "3 records: 3 valid, 0 invalid\n" });
  });

  test("broken records fail the step with exit code 1 and a diagnostic per record, at its line", () => {
    expect(broken.code).toBe(1);
    const lines = broken.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^fixtures\/broken-events\.ndjson:1:\d+: error\[invalid_format\]: \/data\/plannedQuantity\/value: "1e3" /);
    expect(lines[1]).toMatch(/^fixtures\/broken-events\.ndjson:2:\d+: error\[unknown_event_type\]: .*"dev\.millwright\.workorder\.relased\.v1".*"dev\.millwright\.workorder\.released\.v1"/);
    expect(lines[2]).toBe("2 records: 0 valid, 2 invalid");
  });
});
