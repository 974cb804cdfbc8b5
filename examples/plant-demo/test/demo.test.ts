import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { parseEvent } from "@millwright/events";
import { runDemo } from "../src/demo.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");

test("the demo accepts the SAP order and the good MES records, and rejects the bad one with every issue", async () => {
  const lines: string[] = [];
  const summary = await runDemo({
    mesDatabase: join(mkdtempSync(join(tmpdir(), "millwright-demo-")), "mes.db"),
    sapOrder: JSON.parse(readFileSync(join(fixtures, "sap-production-order.json"), "utf8")),
    mesLines: readFileSync(join(fixtures, "mes-records.ndjson"), "utf8").split("\n").filter((l) => l.trim() !== ""),
    log: (l) => lines.push(l),
  });
  expect(summary.accepted.map((a) => a.entity)).toEqual(["WorkOrder", "MachineState", "ProductionCount", "ProductionConfirmation"]);
  expect(summary.rejected).toHaveLength(1);
  expect(summary.rejected[0]!.issues.map((i) => `${i.code} ${i.path}`)).toEqual([
    "negative_quantity /scrapQuantity/value",
    "unit_mismatch /scrapQuantity/unit",
    "end_before_start /executionEnd",
  ]);
  expect(summary.confirmedYield).toBe("118 H87");
  expect(lines.join("\n")).toContain("✓ WorkOrder 1000123: 500.000 H87 of FG126, status released (SAP CRTD REL)");
  expect(summary.events.map((e) => e.type)).toEqual([
    "dev.millwright.workorder.released.v1",
    "dev.millwright.machinestate.changed.v1",
    "dev.millwright.productioncount.counted.v1",
    "dev.millwright.productionconfirmation.confirmed.v1",
  ]);
  // The release arrives three times; the MES applies it once and absorbs two duplicates.
  expect(summary.mes).toEqual({ delivered: 6, duplicates: 2, orders: 1, releasedOrders: ["1000123"], countedGood: 118 });
  // Every line the demo writes is a valid structured CloudEvent of the catalog.
  for (const line of summary.eventLines) expect(parseEvent(line).isOk()).toBe(true);
});
