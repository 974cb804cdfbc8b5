/**
 * A webhook receiver with an inbox.
 *
 * A WMS tells the MES about pallets it moved by POSTing canonical material-movement events as signed
 * webhooks. Senders retry on timeouts and 5xx, so the MES sees some events twice; the receiver hands
 * every event to an idempotent inbox, which applies its effect (here: the MES's stock ledger) once.
 * A request that is not signed with the shared secret is refused. The signature is Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`), which other platforms' senders and
 * receivers speak too.
 *
 * Everything runs in this process on 127.0.0.1: the receiver on node:http, the sender with fetch.
 * Swap `createMemoryStore()` for `@millwright/idempotency/sqlite` or `/postgres` to keep the
 * inbox across restarts.
 *
 * Run: `pnpm start` (prints the ledger and the receiver's statistics).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore } from "@millwright/idempotency";
import { parseMaterialMovement, type MaterialMovement } from "@millwright/model";
import { createWebhookReceiver, createWebhookSender } from "@millwright/transports/http";

// A Standard Webhooks secret: `whsec_` and the base64 of the key. Keep yours out of the code.
const SECRET = "whsec_bWlsbHdyaWdodC1leGFtcGxlLXNoYXJlZC1rZXktMzJi";
const WMS = "urn:millwright:wms:test-wms";

/** A pallet the WMS moved from one storage location to another, as a canonical event. */
function movement(pallet: string, material: string, quantity: string, from: string, to: string): CanonicalEvent {
  const input = {
    movementId: `WMS-${pallet}`,
    kind: "transferred",
    postingDate: "2026-03-02",
    occurredAt: "2026-03-02T07:30:00Z",
    material: { id: material },
    quantity: { value: quantity, unit: "H87" },
    from: { site: { id: "1710" }, storageLocation: from, stockType: "unrestricted" },
    to: { site: { id: "1710" }, storageLocation: to, stockType: "unrestricted" },
    revision: "0",
    sourceRefs: [{ system: "test-wms", kind: "transfer-task", key: pallet }],
  };
  const data = parseMaterialMovement(input);
  if (data.isErr()) throw new Error(`example data: ${data.error.message}`);
  const event = createEvent({ type: "dev.millwright.materialmovement.posted.v1", source: WMS, time: "2026-03-02T07:30:00Z", data: data.value });
  if (event.isErr()) throw new Error(`example event: ${event.error.message}`);
  return event.value;
}

async function main(): Promise<number> {
  // The MES's stock ledger: storage location → material → quantity (whole pieces in this example).
  const ledger = new Map<string, number>();
  const add = (key: string, n: number) => ledger.set(key, (ledger.get(key) ?? 0) + n);

  const inbox = createInbox(createMemoryStore());
  const receiver = createWebhookReceiver({ secrets: [SECRET], inbox }, (event, { tx }) => {
    const m = event.data as MaterialMovement;
    const n = Number(m.quantity.value);
    // Deferred to the inbox's commit: the ledger changes exactly when the event is marked processed.
    tx.defer(() => {
      add(`${m.from?.storageLocation ?? "?"} ${m.material.id}`, -n);
      add(`${m.to?.storageLocation ?? "?"} ${m.material.id}`, n);
    });
  });
  const server = createServer(receiver.listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/wms`;
  console.log(`MES webhook receiver on ${url}`);

  try {
    const events = [movement("PAL-0001", "RM10", "120", "171A", "FAB1"), movement("PAL-0002", "RM20", "450", "171A", "FAB1"), movement("PAL-0003", "RM10", "30", "FAB1", "171A")];
    const sender = createWebhookSender({ url, secret: SECRET, mode: "structured", retry: { maxAttempts: 3, baseDelayMs: 50 } });

    const outcomes = async (batch: readonly CanonicalEvent[]): Promise<string[]> => {
      const published = await sender.publish(batch);
      if (published.isErr()) return [`error ${published.error.code}: ${published.error.message}`];
      return published.value.map((o) => (o.outcome === "published" ? o.outcome : `failed ${o.error.code}`));
    };
    const first = await outcomes(events);
    console.log(`WMS sent ${events.length} movements: ${first.join(", ")}`);
    // The WMS did not get the answer in time and sends the first two again (new requests, new signatures).
    const again = await outcomes(events.slice(0, 2));
    console.log(`WMS sent 2 again: ${again.join(", ")}`);

    // A sender that does not know the secret: its requests are refused with 401 and reach no inbox.
    const stranger = createWebhookSender({ url, secret: "whsec_bm90LXRoZS1zaGFyZWQta2V5LW9mLXRoZS1tZXMtMzJi", retry: { maxAttempts: 1 } });
    const forged = await stranger.publish([movement("PAL-9999", "RM10", "1000", "171A", "GONE")]);
    const refused = forged.isOk() ? forged.value[0] : undefined;
    console.log(`sender without the secret: ${refused?.outcome === "failed" ? `${refused.outcome}, ${refused.error.message}` : (refused?.outcome ?? "no outcome")}`);

    const s = receiver.stats();
    console.log(`receiver: ${s.received} received, ${s.processed} processed, ${s.duplicates} duplicates, ${s.deadLettered} dead-lettered, ${s.rejected} rejected`);
    console.log("MES stock ledger:");
    for (const [key, n] of [...ledger].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${key} ${n}`);
    const dead = await inbox.deadLetters();
    console.log(`dead letters: ${dead.isOk() ? dead.value.length : `store error ${dead.error.message}`}`);
    return [...first, ...again].every((o) => o === "published") && refused?.outcome === "failed" ? 0 : 1;
  } finally {
    await receiver.close();
    server.close();
  }
}

process.exitCode = await main();
