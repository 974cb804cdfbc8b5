import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseEvent } from "@millwright/events";
import { parseWorkOrder } from "@millwright/model";
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
  ({ stdout } = await run(process.execPath, args, { cwd: dir, timeout: 15_000 }));
}, 20_000);

describe("sap-order-to-event", () => {
  test("the SAP order becomes one canonical work-order event, the same on redelivery", () => {
    const lines = stdout.trim().split("\n");
    const mapped = lines.filter((l) => l.startsWith("SAP event "));
    expect(mapped).toHaveLength(2);
    const ids = mapped.map((l) => /→ dev\.millwright\.workorder\.started\.v1 subject 1000123 id ([0-9a-f-]{36})$/.exec(l)?.[1]);
    expect(ids[0]).toBeDefined();
    expect(ids[1]).toBe(ids[0]);
    expect(stdout).toContain("order 1000123: FG-4711 at site 1710, in_progress, planned 500 H87, 2 operations, 1 component\n");
    expect(stdout).toContain("redelivery: same canonical id, a consumer's inbox applies it once");
  });

  test("the order in an unknown unit is rejected with the field, value and rule", () => {
    expect(stdout).toContain("order 1000124 rejected (unknown_unit):\n");
    expect(stdout).toContain('  unknown_unit: /ProductionUnit has value "KAR": SAP unit not in the configured unit table and no ISO code sent\n');
  });

  test("the written event is a valid canonical event carrying SAP's order", () => {
    const lines = readFileSync(join(dir, "out", "events.ndjson"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const event = parseEvent(JSON.parse(lines[0] ?? ""))._unsafeUnwrap();
    expect(event).toMatchObject({ type: "dev.millwright.workorder.started.v1", source: "urn:millwright:sap:S4PCLNT100", subject: "1000123", time: "2026-03-02T07:15:30Z" });
    expect(stdout).toContain(`id ${event.id}`);
    const order = parseWorkOrder(event.data)._unsafeUnwrap();
    expect(order).toMatchObject({
      orderId: "1000123",
      orderType: "PP01",
      site: { id: "1710" },
      material: { id: "FG-4711" },
      status: "in_progress",
      plannedQuantity: { value: "500", unit: "H87" },
      revision: "20260302071530",
    });
    // The order's two operations, in operation order although SAP sent them out of order.
    expect(order.operations?.map((o) => o.operationId)).toEqual(["0010", "0020"]);
    expect(order.sourceRefs).toContainEqual({ system: "S4PCLNT100", kind: "A_ProductionOrder_2", key: "ManufacturingOrder=1000123" });
  });
});
