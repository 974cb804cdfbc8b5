// Round trip against the test WMS: released work order → staging request → simulated picks and
// staging → signed webhooks (duplicated, reordered, one answered 500) → verified → vendor mapping
// → contract → canonical movements → canonical events → @millwright/idempotency's inbox, which
// absorbs the redeliveries (the same movement makes the same event id).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { addQuantities, compareQuantities, type MaterialMovement, type Quantity } from "@millwright/model";
import { createEvent } from "@millwright/events";
import { createInbox, createMemoryStore } from "@millwright/idempotency";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestWms, testWmsMapping, type TestWms } from "../src/test-server.js";
import { createWebhookVerifier, signWebhook } from "../src/webhook.js";
import { createStagingRequest, toMaterialMovement, type StagingRequest, type WmsLocation } from "../src/wms-contract.js";
import { applyVendorMapping, createVendorMapping } from "../src/wms-mapping.js";
import { sendWmsRequest } from "../src/wms-client.js";
import { releasedOrder } from "./fixtures/canonical-records.js";

const secret = "round-trip-secret";
const lineSide: WmsLocation = { site: { id: "1710" }, storageLocation: "0001", bin: "LINE-1" };
// One deterministic clock for sender and receiver: every reading advances it by a second, so a
// redelivery is signed at a new timestamp, as a real retry would be.
let clock = Date.UTC(2026, 2, 2, 5, 0, 0);
const now = (): number => (clock += 1000);

/** What the consumer applied, through the inbox: movements by id. */
const applied = new Map<string, MaterialMovement>();
const inbox = createInbox(createMemoryStore());
const rejected: { status: number; reason: string }[] = [];
let duplicatesAbsorbed = 0;
let failNextWebhook = true;
let receiver: Server;
let receiverUrl: string;
let wms: TestWms;
let request: StagingRequest;

beforeAll(async () => {
  const verifier = createWebhookVerifier({ secret, now: () => clock });
  const mapping = createVendorMapping({ name: "test-wms", template: testWmsMapping })._unsafeUnwrap();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const verified = verifier.verify(req.headers, Buffer.concat(chunks));
        if (verified.isErr()) {
          rejected.push({ status: 401, reason: verified.error.code });
          res.writeHead(401).end(verified.error.message);
          return;
        }
        if (failNextWebhook) {
          // Fault: the receiver fails once; the WMS must retry.
          failNextWebhook = false;
          res.writeHead(500).end();
          return;
        }
        const event = await applyVendorMapping(mapping, JSON.parse(verified.value) as unknown);
        const movement = event.andThen((e) => toMaterialMovement(e, { system: "TEST-WMS" }));
        if (movement.isErr()) {
          rejected.push({ status: 422, reason: movement.error.message });
          res.writeHead(422).end(movement.error.message);
          return;
        }
        const m = movement.value;
        const created = createEvent({
          type: "dev.millwright.materialmovement.posted.v1",
          source: "urn:millwright:wms:test-wms",
          time: m.occurredAt ?? `${m.postingDate}T00:00:00Z`,
          data: m,
        });
        if (created.isErr()) {
          rejected.push({ status: 422, reason: created.error.message });
          res.writeHead(422).end(created.error.message);
          return;
        }
        const outcome = await inbox.process(created.value, (e, { tx }) => {
          tx.defer(() => applied.set(m.movementId, e.data as MaterialMovement));
        });
        if (outcome.isErr()) {
          res.writeHead(503).end(outcome.error.message);
          return;
        }
        if (outcome.value.outcome === "duplicate") duplicatesAbsorbed += 1;
        res.writeHead(200).end();
      })();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  wms = await startTestWms({ secret, webhookUrl: receiverUrl, now, faults: { failRequests: 2, duplicateEvery: 2, reorder: true, seed: 7 } });
  request = createStagingRequest(releasedOrder, { destination: lineSide, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();
});

afterAll(async () => {
  await wms.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

function sameKey(a: WmsLocation, b: MaterialMovement["to"]): boolean {
  return b !== undefined && a.site.id === b.site.id && a.storageLocation === b.storageLocation && a.bin === b.bin;
}

describe("WMS round trip with injected faults", () => {
  it("the staging request is accepted after two injected 500s", async () => {
    const status = await sendWmsRequest(request, { url: `${wms.url}/requests`, delay: () => 0 });
    expect(status._unsafeUnwrap()).toBe(202);
    expect(wms.received).toHaveLength(3);
    await wms.idle();
  });

  it("every task arrives once in the inbox although webhooks were duplicated, reordered and failed", () => {
    // 2 lines × (pick + stage) = 4 tasks; every second delivery duplicated; one answered 500.
    expect(applied.size).toBe(4);
    expect(duplicatesAbsorbed).toBeGreaterThanOrEqual(2);
    expect(wms.deliveries.filter((d) => d.status === 500)).toHaveLength(1);
    expect(rejected).toEqual([]);
    const order = wms.deliveries.map((d) => (d.payload as { taskId: string }).taskId);
    expect(order).not.toEqual([...order].sort());
  });

  it("inventory at the line-side location equals what the order needs", () => {
    const atLine = new Map<string, Quantity>();
    for (const m of applied.values()) {
      const sign = sameKey(lineSide, m.to) ? 1 : sameKey(lineSide, m.from) ? -1 : 0;
      if (sign === 0) continue;
      expect(sign).toBe(1);
      const before = atLine.get(m.material.id);
      atLine.set(m.material.id, before === undefined ? m.quantity : addQuantities(before, m.quantity)._unsafeUnwrap());
    }
    expect(atLine.size).toBe(request.lines.length);
    for (const line of request.lines) {
      const staged = atLine.get(line.material.id);
      expect(staged && compareQuantities(staged, line.quantity)._unsafeUnwrap()).toBe(0);
    }
    expect(Object.fromEntries([...atLine].map(([k, q]) => [k, `${q.value} ${q.unit}`]))).toEqual({ "RM-CAST-22": "505.500 KGM", "SCREW-M6": "1500 H87" });
  });

  it("a resent staging request is not staged twice", async () => {
    const before = wms.deliveries.length;
    expect((await sendWmsRequest(request, { url: `${wms.url}/requests`, delay: () => 0 }))._unsafeUnwrap()).toBe(200);
    await wms.idle();
    expect(wms.deliveries.length).toBe(before);
  });

  it("the receiver rejects replayed, stale and forged webhooks", async () => {
    const body = JSON.stringify({ taskId: "T-X" });
    const post = (headers: Record<string, string>) => fetch(receiverUrl, { method: "POST", headers, body }).then((r) => r.status);
    const fresh = signWebhook({ secret, body, timestamp: clock / 1000 });
    // Authentic but not a task: verified, then rejected by the vendor mapping with a pointer.
    expect(await post(fresh)).toBe(422);
    expect(await post(fresh)).toBe(401);
    expect(await post(signWebhook({ secret, body, timestamp: clock / 1000 - 3600 }))).toBe(401);
    expect(await post(signWebhook({ secret: "forged", body, timestamp: clock / 1000 }))).toBe(401);
    expect(rejected.map((r) => r.reason)).toEqual([
      "mapping test-wms: /type is required but missing from vendor /taskType = (absent); /occurredAt is required but missing from vendor /confirmedAt = (absent); /material is required but missing from vendor /sku = (absent)",
      "replayed",
      "stale_timestamp",
      "invalid_signature",
    ]);
  });
});
