import { parseEvent } from "@millwright/events";
import { expect, test } from "vitest";
import { runSparkplugLine } from "../src/sparkplug-line.js";

// `pnpm demo -- --sparkplug`: line PKG over MQTT Sparkplug B on the real broker. It drops off the
// broker while it keeps making parts; every part is counted once, from the next birth.
test("line PKG over Sparkplug B: counted = made across a death, every event valid and distinct", async () => {
  const brokerUrl = process.env["MILLWRIGHT_MQTT_URL"] ?? "mqtt://127.0.0.1:1883";
  const events: string[] = [];
  const log: string[] = [];
  const pkg = await runSparkplugLine({
    brokerUrl,
    orderId: "1000123",
    site: { id: "1710" },
    deliver: async (event) => {
      events.push(JSON.stringify(event));
    },
    log: (who, text) => log.push(`${who} ${text}`),
  });
  expect(pkg.made).toBe(50);
  expect(pkg.counted).toBe(pkg.made);
  expect(pkg.events).toBe(events.length);
  const parsed = events.map((text) => parseEvent(text));
  for (const p of parsed) expect(p.isOk(), p.isErr() ? p.error.message : "").toBe(true);
  const ids = parsed.map((p) => (p.isOk() ? p.value.id : ""));
  expect(new Set(ids).size).toBe(ids.length);
  const types = parsed.map((p) => (p.isOk() ? p.value.type : ""));
  expect(types).toContain("dev.millwright.machinestate.changed.v1");
  expect(types).toContain("dev.millwright.productioncount.counted.v1");
  expect(log.some((l) => l.includes("NDEATH"))).toBe(true);
}, 60_000);
