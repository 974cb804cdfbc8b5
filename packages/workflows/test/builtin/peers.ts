// The real peers of the built-in workflow tests, over HTTP on 127.0.0.1: the test SAP system
// (EDMX-driven Gateway look-alike) and the test WMS with Millwright's webhook receiver in front of
// the workflow runtime. SAP's event channel is played by `sapEvents`: for every material document
// SAP stores it raises the thin business event SAP would, and the adapter's handler turns it into
// canonical movement events; it can lose events, as a broker can.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSapClient, createSapConfig, handleMaterialDocumentEvent, type SapAdapterConfig, type SapClient } from "@millwright/adapter-sap";
import { startTestSapServer, type TestSapServer } from "@millwright/adapter-sap/test-server";
import { applyVendorMapping, createVendorMapping, createWebhookVerifier, toMaterialMovement } from "@millwright/adapter-wms";
import { startTestWms, testWmsMapping, type TestWms, type TestWmsFaults } from "@millwright/adapter-wms/test-server";
import { createEvent, type CanonicalEvent } from "@millwright/events";

export const SAP_SYSTEM = "S4PCLNT100";
const SAP_SOURCE = "urn:millwright:sap:S4PCLNT100";
export const WMS_SYSTEM = "TEST-WMS";
const WMS_SOURCE = "urn:millwright:wms:test-wms";
export const MATDOC = "API_MATERIAL_DOCUMENT_SRV";
export const ORDERS = "API_PRODUCTION_ORDER_2_SRV";
export const CONFIRMATIONS = "API_PROD_ORDER_CONFIRMATION_2_SRV";

const edmx = (service: string) => readFileSync(new URL(`../../../adapter-sap/metadata/${service}.edmx`, import.meta.url), "utf8");

/** The peers of one test, and the canonical events they produced that are not yet delivered. */
export interface Peers {
  readonly sap: TestSapServer;
  readonly sapConfig: SapAdapterConfig;
  /** Clients of the three SAP services. */
  readonly clients: { readonly materialDocuments: SapClient; readonly orders: SapClient; readonly confirmations: SapClient };
  readonly wms: TestWms;
  /** Webhooks the receiver refused, with why. */
  readonly rejectedWebhooks: readonly string[];
  /** SAP business events lost on the way (by material document), as the test asked. */
  readonly lostSapEvents: readonly string[];
  /** Lose the next n SAP material document events. */
  loseSapEvents(n: number): void;
  /**
   * Collects what the peers produced since the last call: SAP's events for new material documents,
   * and the WMS's webhooks received, each as canonical events, in arrival order.
   */
  collect(): Promise<readonly CanonicalEvent[]>;
  close(): Promise<void>;
}

/**
 * Starts the test SAP system (material documents, production orders, confirmations) and the test
 * WMS with its webhook receiver.
 *
 * @param options - WMS faults and whether it confirms hold requests
 * @returns the peers
 */
export async function startPeers(options: { readonly wmsFaults?: TestWmsFaults; readonly confirmHoldRequests?: boolean } = {}): Promise<Peers> {
  const sap = await startTestSapServer({ services: [MATDOC, ORDERS, CONFIRMATIONS].map((name) => ({ name, edmx: edmx(name) })) });
  const sapConfig = createSapConfig({ system: SAP_SYSTEM, timeZone: "Europe/Berlin", outboundUnits: { H87: "ST" } })._unsafeUnwrap();
  const client = (service: string) => createSapClient({ serviceUrl: sap.serviceUrl(service), maxAttempts: 1, timeoutMs: 5000 });
  const clients = { materialDocuments: client(MATDOC), orders: client(ORDERS), confirmations: client(CONFIRMATIONS) };

  // One clock for the WMS's signatures and the receiver's check, a second further at every
  // reading, so a re-sent confirmation is signed anew (the receiver refuses a replayed signature).
  let signClock = Date.now();
  const secret = "builtin-workflows-secret";
  const verifier = createWebhookVerifier({ secret, now: () => signClock });
  const mapping = createVendorMapping({ name: "test-wms", template: testWmsMapping })._unsafeUnwrap();
  const inbound: CanonicalEvent[] = [];
  const rejectedWebhooks: string[] = [];
  const receiver: Server = createServer((req, res) => {
    void (async () => {
      const body = await verifier.receive(req);
      if (body.isErr()) {
        rejectedWebhooks.push(body.error.message);
        res.writeHead(401).end();
        return;
      }
      const movement = await applyVendorMapping(mapping, JSON.parse(body.value) as unknown).andThen((e) => toMaterialMovement(e, { system: WMS_SYSTEM }));
      if (movement.isErr()) {
        rejectedWebhooks.push(movement.error.message);
        res.writeHead(422).end();
        return;
      }
      const m = movement.value;
      const event = createEvent({ type: "dev.millwright.materialmovement.posted.v1", source: WMS_SOURCE, time: m.occurredAt ?? `${m.postingDate}T00:00:00Z`, data: m });
      if (event.isErr()) {
        rejectedWebhooks.push(event.error.message);
        res.writeHead(422).end();
        return;
      }
      inbound.push(event.value);
      res.writeHead(200).end();
    })();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  const wms = await startTestWms({
    secret,
    webhookUrl,
    now: () => (signClock += 1000),
    deliveryRetries: 1,
    confirmHoldRequests: options.confirmHoldRequests ?? true,
    ...(options.wmsFaults === undefined ? {} : { faults: options.wmsFaults }),
  });

  const emitted = new Set<string>();
  const lostSapEvents: string[] = [];
  let lose = 0;
  const sapEvents = async (): Promise<CanonicalEvent[]> => {
    const out: CanonicalEvent[] = [];
    for (const row of sap.rows(MATDOC, "A_MaterialDocumentHeader")) {
      const document = String(row["MaterialDocument"]);
      const year = String(row["MaterialDocumentYear"]);
      if (emitted.has(`${year}/${document}`)) continue;
      emitted.add(`${year}/${document}`);
      if (lose > 0) {
        lose -= 1;
        lostSapEvents.push(`${year}/${document}`);
        continue;
      }
      const events = await handleMaterialDocumentEvent(
        { specversion: "1.0", id: `MD-${year}-${document}`, source: "/default/sap.s4.beh/S4PCLNT100", type: "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1", time: "2026-03-04T16:00:00Z", data: { MaterialDocument: document, MaterialDocumentYear: year } },
        { client: clients.materialDocuments, config: sapConfig, source: SAP_SOURCE },
      );
      out.push(...events._unsafeUnwrap());
    }
    return out;
  };

  return {
    sap,
    sapConfig,
    clients,
    wms,
    rejectedWebhooks,
    lostSapEvents,
    loseSapEvents: (n) => {
      lose = n;
    },
    collect: async () => {
      await wms.idle();
      const fromSap = await sapEvents();
      return [...fromSap, ...inbound.splice(0)];
    },
    close: async () => {
      await wms.close();
      await sap.close();
      await new Promise<void>((resolve) => {
        receiver.closeAllConnections();
        receiver.close(() => resolve());
      });
    },
  };
}

/** Material documents SAP stored (created, not seeded), with their movement types. */
export function postedDocuments(sap: TestSapServer): readonly { readonly document: string; readonly reference: unknown; readonly movementTypes: readonly string[] }[] {
  return sap.rows(MATDOC, "A_MaterialDocumentHeader").map((row) => ({
    document: String(row["MaterialDocument"]),
    reference: row["ReferenceDocument"],
    movementTypes: ((row["to_MaterialDocumentItem"] as { results?: Record<string, unknown>[] } | undefined)?.results ?? []).map((i) => String(i["GoodsMovementType"])),
  }));
}
