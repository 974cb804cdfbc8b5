/**
 * The WMS side of the demo: the test WMS of @millwright/adapter-wms/test-server, and the path its
 * webhooks take into Millwright: signature check (createWebhookVerifier), the declarative vendor
 * mapping (applyVendorMapping), the WMS contract, the canonical MaterialMovement
 * (toMaterialMovement) and a canonical event, which the caller hands to the MES's inbox.
 *
 * The test WMS picks and stages for a staging request and sends those confirmations itself, and
 * confirms the stock status change of a block or unblock request it applies (STATUS tasks). It has
 * no goods receipts: for the pallet received from production, `confirmAsWms` sends the confirmation
 * the WMS would send, in the test WMS's vendor format and signed like it, through the same receiver
 * and mapping.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  applyVendorMapping,
  createVendorMapping,
  createWebhookVerifier,
  sendWmsRequest,
  signWebhook,
  toMaterialMovement,
  type MappingTemplate,
  type WmsClientError,
  type WebhookError,
  type WmsRequest,
} from "@millwright/adapter-wms";
import { startTestWms, testWmsMapping, type TestWms, type TestWmsFaults } from "@millwright/adapter-wms/test-server";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import type { Result } from "neverthrow";

/** The canonical `source` of the WMS's events, as the adapter's round trip names its test WMS. */
export const WMS_SOURCE = "urn:millwright:wms:test-wms";
/** The WMS's system name in `sourceRefs`. */
export const WMS_SYSTEM = "TEST-WMS";

/**
 * The vendor mapping: the test WMS's own (`testWmsMapping`, PICK and STAGE tasks) plus the two task
 * types a real WMS of this format also confirms: RECEIVE (a pallet received, `dst`) and STATUS (the
 * stock status of a bin changed, `loc`, `statusFrom` → `statusTo`: AV available, QI, BL blocked).
 */
const plantWmsMapping: MappingTemplate = {
  ...testWmsMapping,
  type: "$lookup({'PICK': 'pick', 'STAGE': 'stage_to_line', 'RECEIVE': 'receipt', 'STATUS': 'stock_status_change'}, taskType)",
  at: { site: { id: "loc.plant" }, storageLocation: "loc.sloc", warehouse: "loc.whse", bin: "loc.bin" },
  fromStockType: "$lookup({'AV': 'unrestricted', 'QI': 'quality_inspection', 'BL': 'blocked'}, statusFrom)",
  toStockType: "$lookup({'AV': 'unrestricted', 'QI': 'quality_inspection', 'BL': 'blocked'}, statusTo)",
  handlingUnit: "hu",
  reason: { text: "note" },
};

/** A vendor location in the test WMS's format. */
export interface VendorPlace {
  readonly plant: string;
  readonly sloc?: string;
  readonly whse?: string;
  readonly bin?: string;
}

/** A RECEIVE or STATUS task confirmation in the test WMS's vendor format. */
export interface VendorTask {
  readonly taskId: string;
  readonly taskType: "RECEIVE" | "STATUS";
  readonly sku: string;
  readonly lot?: string;
  readonly qty: string;
  readonly uom: string;
  readonly dst?: VendorPlace;
  readonly loc?: VendorPlace;
  readonly statusFrom?: "AV" | "QI" | "BL";
  readonly statusTo?: "AV" | "QI" | "BL";
  readonly orderNo?: string;
  readonly hu?: string;
  readonly note?: string;
  /** When the WMS confirmed the task (RFC 3339). */
  readonly confirmedAt: string;
}

/** The running WMS side. */
export interface PlantWms {
  /** The test WMS itself: what it received and delivered. */
  readonly wms: TestWms;
  /** Sets the clock the WMS signs and confirms with (the story's time), ms since the epoch. */
  setClock(ms: number): void;
  /** Sends an outbound request (staging, block, unblock) to the test WMS; `fetch` replaces the network. */
  send(request: WmsRequest, fetchImpl?: typeof fetch): Promise<Result<number, WmsClientError>>;
  /** Sends a task confirmation as the WMS would, signed, to the receiver; resolves with the receiver's status. */
  confirmAsWms(task: VendorTask): Promise<number>;
  /** Webhooks the receiver refused, with why. */
  readonly rejected: readonly string[];
  close(): Promise<void>;
}

const SECRET = "plant-demo-wms-secret";

/**
 * Starts the test WMS and Millwright's webhook receiver for it.
 *
 * @param options - the story's start time and what to do with each canonical event (deliver it to the MES)
 * @returns the WMS side
 * @example
 * const wms = await startPlantWms({ startAt: Date.parse("2026-03-02T05:40:00-08:00"), onEvent: async (e) => {} });
 */
export async function startPlantWms(options: {
  readonly startAt: number;
  readonly onEvent: (event: CanonicalEvent) => Promise<void>;
  /** Faults of the test WMS, e.g. `refuseStagingFor`. */
  readonly faults?: TestWmsFaults;
}): Promise<PlantWms> {
  // One clock for sender and receiver, as in the adapter's round trip: every reading by the WMS
  // advances it a second, so a redelivery is signed at a new timestamp.
  let clock = options.startAt;
  const verifier = createWebhookVerifier({ secret: SECRET, now: () => clock });
  const mapping = createVendorMapping({ name: "plant-wms", template: plantWmsMapping })._unsafeUnwrap();
  const rejected: string[] = [];
  const refuse = (status: number, why: string, res: ServerResponse) => {
    rejected.push(why);
    res.writeHead(status).end(why);
  };
  // The signature header is checked before the body is read, and the body is bounded in size and
  // time (verifier.receive), so a client without a signature cannot hold the receiver.
  const STATUS: Readonly<Record<WebhookError["code"], number>> = {
    missing_header: 401, invalid_signature: 401, stale_timestamp: 401, replayed: 409, body_too_large: 413, body_timeout: 408, body_aborted: 400,
  };
  const receiver: Server = createServer((req, res) => {
    void (async () => {
      const verified = await verifier.receive(req);
      if (verified.isErr()) {
        res.setHeader("connection", "close");
        return refuse(STATUS[verified.error.code], verified.error.message, res);
      }
      let body: unknown;
      try {
        body = JSON.parse(verified.value);
      } catch {
        return refuse(400, "the webhook body is not JSON", res);
      }
      const movement = await applyVendorMapping(mapping, body).andThen((e) => toMaterialMovement(e, { system: WMS_SYSTEM }));
      if (movement.isErr()) return refuse(422, movement.error.message, res);
      const m = movement.value;
      const event = createEvent({ type: "dev.millwright.materialmovement.posted.v1", source: WMS_SOURCE, time: m.occurredAt ?? `${m.postingDate}T00:00:00Z`, data: m });
      if (event.isErr()) return refuse(422, event.error.message, res);
      await options.onEvent(event.value);
      res.writeHead(200).end();
    })().catch((cause: unknown) => refuse(500, `the MES could not take the webhook: ${cause instanceof Error ? cause.message.slice(0, 200) : "unknown error"}`, res));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  const wms = await startTestWms({ secret: SECRET, webhookUrl, now: () => (clock += 1000), confirmHoldRequests: true, ...(options.faults === undefined ? {} : { faults: options.faults }) });
  return {
    wms,
    setClock: (ms) => {
      clock = ms;
    },
    send: async (request, fetchImpl) => {
      const sent = await sendWmsRequest(request, { url: `${wms.url}/requests`, delay: () => 10, ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }) });
      await wms.idle();
      return sent;
    },
    confirmAsWms: async (task) => {
      const body = JSON.stringify(task);
      const headers = { "content-type": "application/json", ...signWebhook({ secret: SECRET, body, timestamp: clock / 1000 }) };
      return (await fetch(webhookUrl, { method: "POST", headers, body })).status;
    },
    rejected,
    close: async () => {
      await wms.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}
