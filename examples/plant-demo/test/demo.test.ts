import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReadStream } from "node:fs";
import { validateNdjson } from "@millwright/cli";
import { parseEvent } from "@millwright/events";
import { expect, test } from "vitest";
import { runPlant } from "../src/plant.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");

test("the plant demo: every system ends up agreeing, every fact applied once", async () => {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "millwright-demo-"));
  const started = Date.now();
  const summary = await runPlant({
    mesDatabase: join(dir, "mes.db"),
    sapOrder: JSON.parse(readFileSync(join(fixtures, "sap-production-order.json"), "utf8")),
    log: (l) => lines.push(l),
  });
  expect(Date.now() - started).toBeLessThan(30_000);

  // SAP: one confirmation, although the first response was lost and the post was retried.
  expect(summary.sap).toEqual({ confirmations: 1, confirmationPosts: 2, yieldQuantity: "118", scrapQuantity: "2" });
  // The line made 118 good and 2 defective parts; the OPC UA adapter counted exactly that.
  expect(summary.line).toEqual({ good: 118, defective: 2 });
  expect(summary.counted).toEqual({ good: "118", defective: "2" });
  // The MES: the release applied once (its redelivery absorbed), counts, the hold placed then released,
  // and the malformed scanner record kept as a dead letter with its issues.
  expect(summary.mes).toMatchObject({
    releasedOrders: ["1000123"],
    countedGood: 118,
    countedDefective: 2,
    holds: { "040000001234": "released" },
    duplicates: 1,
    deadLetters: 1,
    outboxUnsent: 0,
  });
  expect(lines.join("\n")).toContain("outbox relay: 1 published, 0 failed");
  expect(summary.rejected.map((i) => i.code)).toEqual(["negative_quantity", "unit_mismatch"]);
  expect(lines.join("\n")).toContain("absorbed duplicate workorder.released.v1");

  // Every event the demo writes is a valid canonical event, and `millwright validate` accepts the file.
  for (const line of summary.eventLines) expect(parseEvent(line).isOk()).toBe(true);
  const file = join(dir, "events.ndjson");
  writeFileSync(file, `${summary.eventLines.join("\n")}\n`);
  const results = [];
  for await (const r of validateNdjson(createReadStream(file), file, {})) results.push(r);
  expect(results.length).toBe(summary.events.length);
  expect(results.filter((r) => !r.valid)).toEqual([]);
}, 60_000);
