import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProductionConfirmation } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { startSap } from "../test/sap-system.js";
import type { TestSapServer } from "./test-server/index.js";
import { createSapClient, type SapClientLogEntry, type SapClientOptions } from "./client.js";
import { mapProductionOrder } from "./map-work-order.js";
import { mapProductionConfirmation } from "./map-production-confirmation.js";
import { confirmationExternalId } from "./build.js";
import { postConfirmation } from "./post.js";

const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const config = testConfig();
const fast = { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2_000 } satisfies Partial<SapClientOptions>;

let sap: TestSapServer | undefined;
const peers: Peer[] = [];
afterEach(async () => {
  await sap?.close();
  sap = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

/** A request a loopback peer received, with the credentials it carried. */
interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
}

/** A plain HTTP server on loopback that records every request and answers with `handler`. */
interface Peer {
  readonly origin: string;
  readonly requests: SeenRequest[];
  /** Body bytes the handler got written into sockets (backpressure honoured). */
  readonly written: { bytes: number; closedEarly: boolean };
  close(): Promise<void>;
}

async function startPeer(handler: (req: IncomingMessage, res: ServerResponse, peer: Peer) => void): Promise<Peer> {
  const requests: SeenRequest[] = [];
  const written = { bytes: 0, closedEarly: false };
  let peer: Peer | undefined;
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization, cookie: req.headers.cookie });
    res.on("close", () => {
      if (!res.writableFinished) written.closedEarly = true;
    });
    handler(req, res, peer as Peer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  peer = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    written,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  peers.push(peer);
  return peer;
}

/** Stream `total` bytes of `chunk` repeats, waiting for the socket to drain (so a reader that stops reading stops the writer). */
function streamBody(res: ServerResponse, peer: Peer, total: number, chunk: string): void {
  const buffer = Buffer.from(chunk);
  const write = () => {
    while (peer.written.bytes < total && !res.destroyed) {
      peer.written.bytes += buffer.length;
      if (!res.write(buffer)) {
        res.once("drain", write);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  write();
}

const SRV = "/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/";
const basic = () => ({ kind: "basic", username: "MILLWRIGHT", password: "s3cr3t-Pa55" }) as const;

/** The production order fixture as stored rows (the `d` content), numbered 1000123 + i. */
function orders(n: number): Record<string, unknown>[] {
  const base = (fixture("production-order-1000123.json") as { d: Record<string, unknown> }).d;
  return Array.from({ length: n }, (_, i) => {
    const { __metadata: _m, ...row } = clone(base);
    return { ...row, ManufacturingOrder: String(1000123 + i), LastChangeDateTime: `2026030207${String(i).padStart(4, "0")}` };
  });
}

const confirmation: ProductionConfirmation = {
  confirmationId: "MES-1000123-0010-1",
  order: { orderId: "1000123", operationId: "0010" },
  site: { id: "1710" },
  yieldQuantity: { value: "120.000", unit: "KGM" },
  isFinal: false,
  postingDate: "2026-03-02",
  revision: "0",
  sourceRefs: [{ system: "MES", kind: "confirmation", key: "MES-1000123-0010-1" }],
};

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe("OData client against the test SAP system", () => {
  it("reads expanded orders page by page via __next and maps them to WorkOrders", async () => {
    sap = await startSap({ pageSize: 2 });
    sap.seed(PO, "A_ProductionOrder_2", orders(5));
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast });
    const rows = await collect(client.list("A_ProductionOrder_2", { expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent", "to_ProductionOrderStatus", "to_ProductionOrderItem"] }));
    expect(rows).toHaveLength(5);
    expect(sap.requestCount["GET"]).toBe(3);
    const mapped = rows.map((r) => r.andThen((row) => mapProductionOrder(row, config))._unsafeUnwrap());
    expect(mapped.map((o) => o.orderId)).toEqual(["1000123", "1000124", "1000125", "1000126", "1000127"]);
    expect(mapped[0]?.status).toBe("in_progress");
  });

  it("reads deltas by LastChangeDateTime, $select and single entities by key", async () => {
    sap = await startSap();
    sap.seed(PO, "A_ProductionOrder_2", orders(5));
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast });
    const changed = await collect(client.listChangedSince("A_ProductionOrder_2", "20260302070002", { select: ["ManufacturingOrder", "LastChangeDateTime"] }));
    expect(changed.map((r) => r._unsafeUnwrap())).toEqual([
      expect.objectContaining({ ManufacturingOrder: "1000126", LastChangeDateTime: "20260302070003" }),
      expect.objectContaining({ ManufacturingOrder: "1000127" }),
    ]);
    expect(Object.keys(changed[0]?._unsafeUnwrap() ?? {})).toEqual(["__metadata", "ManufacturingOrder", "LastChangeDateTime"]);
    const one = await client.getEntity("A_ProductionOrder_2", "'1000124'", { expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent"] });
    expect(mapProductionOrder(one._unsafeUnwrap(), config)._unsafeUnwrap().orderId).toBe("1000124");
    const missing = await client.getEntity("A_ProductionOrder_2", "'999'");
    expect(missing._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 404, sapCode: "/IWBEP/CM_MGW_RT/020" });
  });

  it("retries idempotent reads on 500, 429 with Retry-After, and timeouts", async () => {
    sap = await startSap();
    sap.seed(PO, "A_ProductionOrder_2", orders(1));
    const log: SapClientLogEntry[] = [];
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, timeoutMs: 1_000, log: (e) => log.push(e) });
    sap.inject({ kind: "status", status: 500, method: "GET", times: 1 });
    sap.inject({ kind: "status", status: 429, retryAfter: 0, method: "GET", times: 1 });
    sap.inject({ kind: "timeout", method: "GET", times: 1 });
    const rows = await collect(client.list("A_ProductionOrder_2"));
    expect(rows.map((r) => r.isOk())).toEqual([true]);
    expect(log.filter((e) => e.level === "warn").map((e) => e.message)).toEqual(["retrying after HTTP 500", "retrying after HTTP 429", "retrying after timeout"]);
  });

  it("gives up after the configured attempts with the OData error", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, maxAttempts: 2 });
    sap.inject({ kind: "status", status: 503, method: "GET", times: 5 });
    const [row] = await collect(client.list("A_ProductionOrder_2"));
    expect(row?._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"GET /sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2 failed with HTTP 503: Internal server error (injected)"`);
  });

  it("fetches a CSRF token with the session cookie, and refetches once on 403 Required", async () => {
    sap = await startSap();
    const raw = await fetch(`${sap.serviceUrl(CONF)}ProdnOrdConf2`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect([raw.status, raw.headers.get("x-csrf-token")]).toEqual([403, "Required"]);
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    const body = { OrderID: "1000123", OrderOperation: "0010", ConfirmationYieldQuantity: "1.000", ConfirmationUnit: "ST" };
    const first = await client.create("ProdnOrdConf2", body);
    expect(first._unsafeUnwrap().messages).toEqual([{ code: "RU/100", message: "Confirmation saved", severity: "success" }]);
    expect(first._unsafeUnwrap().entity["ConfirmationGroup"]).toBe("0000000001");
    sap.expireSessions();
    expect((await client.create("ProdnOrdConf2", body)).isOk()).toBe(true);
    expect(sap.requestCount["HEAD"]).toBe(2);
  });

  it("maps Gateway's rejection of unknown properties and bad types to a typed error", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    const result = await client.create("ProdnOrdConf2", { OrderID: "1000123", Colour: "red", ConfirmationYieldQuantity: 1 });
    const error = result._unsafeUnwrapErr();
    expect(error.message).toMatchInlineSnapshot(`"POST /sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV/ProdnOrdConf2 failed with HTTP 400: Property 'Colour' is invalid"`);
    expect(error.code === "http_error" ? error.details.map((d) => d.message) : []).toMatchInlineSnapshot(`
      [
        "/Colour has value "red": ProdnOrdConf2Type has no property Colour",
        "/ConfirmationYieldQuantity has value 1: Edm.Decimal Precision 13 Scale 3 as a JSON string",
      ]
    `);
  });

  it("does not retry a non-idempotent create on 500", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    sap.inject({ kind: "status", status: 500, method: "POST", times: 1 });
    const result = await client.create("ProdnOrdConf2", { OrderID: "1000123" });
    expect(result._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 500 });
    expect(sap.requestCount["POST"]).toBe(1);
  });

  it("keeps credentials out of errors and logs (basic and bearer)", async () => {
    sap = await startSap({ auth: { username: "MILLWRIGHT", password: "s3cr3t-Pa55" } });
    const lines: string[] = [];
    const wrong = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, credentials: () => ({ kind: "basic", username: "MILLWRIGHT", password: "wr0ng-Pa55" }), log: (e) => lines.push(JSON.stringify(e)) });
    const denied = await wrong.getEntity("A_ProductionOrder_2", "'1'");
    expect(denied._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 401 });
    const right = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, credentials: async () => ({ kind: "basic", username: "MILLWRIGHT", password: "s3cr3t-Pa55" }), log: (e) => lines.push(JSON.stringify(e)) });
    sap.inject({ kind: "status", status: 500, method: "GET" });
    expect((await right.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr()).toMatchObject({ status: 404 });
    const text = JSON.stringify(denied) + lines.join("\n");
    for (const secret of ["s3cr3t-Pa55", "wr0ng-Pa55", Buffer.from("MILLWRIGHT:s3cr3t-Pa55").toString("base64"), Buffer.from("MILLWRIGHT:wr0ng-Pa55").toString("base64"), "SAP_SESSIONID"]) {
      expect(text).not.toContain(secret);
    }
    await sap.close();
    sap = await startSap({ auth: { token: "tok-123456" } });
    const bearer = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, credentials: () => ({ kind: "bearer", token: "tok-123456" }) });
    expect((await bearer.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr()).toMatchObject({ status: 404 });
    const failing = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, credentials: () => { throw new Error("vault said tok-123456"); } });
    const failed = await failing.getEntity("A_ProductionOrder_2", "'1'");
    expect(JSON.stringify(failed)).not.toContain("tok-123456");
    expect(failed._unsafeUnwrapErr().code).toBe("credentials_error");
  });

  it("reports a network error when nothing listens", async () => {
    sap = await startSap();
    const url = sap.serviceUrl(PO);
    await sap.close();
    sap = undefined;
    const client = createSapClient({ serviceUrl: url, ...fast, maxAttempts: 2 });
    expect((await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr().code).toBe("network_error");
  });
});

describe("credentials stay with the service", () => {
  it("follows __next only on the service's origin and under its root, and sends credentials nowhere else", async () => {
    const other = await startPeer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ d: { results: [{ ManufacturingOrder: "stolen" }] } }));
    });
    let next = "";
    const first = await startPeer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "set-cookie": "SAP_SESSIONID_TST_100=secret-session; path=/; HttpOnly" });
      res.end(JSON.stringify({ d: { results: [{ ManufacturingOrder: "1000123" }], __next: next } }));
    });
    const port = new URL(first.origin).port;
    const client = createSapClient({ serviceUrl: `${first.origin}${SRV}`, ...fast, credentials: basic });
    const misdirected = [
      `${other.origin}${SRV}A_ProductionOrder_2?$skiptoken=1`,
      `http://localhost:${port}${SRV}A_ProductionOrder_2?$skiptoken=1`,
      `https://127.0.0.1:${port}${SRV}A_ProductionOrder_2?$skiptoken=1`,
      `http://u:p@127.0.0.1:${port}${SRV}A_ProductionOrder_2?$skiptoken=1`,
      `${first.origin}/sap/opu/odata/sap/API_OTHER_SRV/A_ProductionOrder_2?$skiptoken=1`,
      `${first.origin}${SRV}../API_OTHER_SRV/A_ProductionOrder_2?$skiptoken=1`,
      `//127.0.0.1:${other.origin.split(":").pop() ?? ""}${SRV}A_ProductionOrder_2`,
    ];
    const messages: string[] = [];
    for (const link of misdirected) {
      next = link;
      const rows = await collect(client.list("A_ProductionOrder_2"));
      expect(rows[0]?._unsafeUnwrap()).toEqual({ ManufacturingOrder: "1000123" });
      const error = rows[1]?._unsafeUnwrapErr();
      expect(error?.code, link).toBe("invalid_response");
      messages.push(error?.message ?? "");
    }
    expect(other.requests).toEqual([]);
    // The first page only, once per read: no request followed a misdirected link.
    expect(first.requests.map((r) => r.url.split("?")[0])).toEqual(misdirected.map(() => `${SRV}A_ProductionOrder_2`));
    expect(messages[0]?.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")).toMatchInlineSnapshot(`"GET /sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2: the __next link (http://127.0.0.1:<port>/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2) leads outside the service root http://127.0.0.1:<port>/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/; not followed"`);
    expect(messages.join("\n")).not.toContain("u:p");
  });

  it("does not follow redirects, so credentials never reach the redirect target", async () => {
    const other = await startPeer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-csrf-token": "from-elsewhere" });
      res.end(JSON.stringify({ d: { ManufacturingOrder: "stolen" } }));
    });
    const first = await startPeer((req, res) => {
      res.writeHead(307, { location: `${other.origin}${req.url ?? "/"}`, "set-cookie": "SAP_SESSIONID_TST_100=secret-session; path=/" });
      res.end();
    });
    const client = createSapClient({ serviceUrl: `${first.origin}${SRV}`, ...fast, credentials: basic });
    expect((await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 307 });
    expect((await client.create("A_ProductionOrder_2", {}))._unsafeUnwrapErr()).toMatchObject({ code: "csrf_failed" });
    expect(other.requests).toEqual([]);
    expect(first.requests.map((r) => r.method)).toEqual(["GET", "HEAD"]);
  });

  it("sends a Secure cookie only over https and keeps cookies to the origin that set them", async () => {
    const first = await startPeer((req, res) => {
      const page = (req.url ?? "").includes("skiptoken") ? { results: [] } : { results: [{ ManufacturingOrder: "1" }], __next: `${SRV}A_ProductionOrder_2?$skiptoken=1` };
      res.writeHead(200, { "content-type": "application/json", "set-cookie": ["tls-only=1; Secure; path=/", "session=abc; path=/; HttpOnly"] });
      res.end(JSON.stringify({ d: page }));
    });
    const client = createSapClient({ serviceUrl: `${first.origin}${SRV}`, ...fast });
    expect(await collect(client.list("A_ProductionOrder_2"))).toHaveLength(1);
    expect(first.requests.map((r) => r.cookie)).toEqual([undefined, "session=abc"]);
  });
});

describe("bounded responses", () => {
  const MiB = 1024 * 1024;

  it("stops reading a response body at maxResponseBytes while it streams, and names the limit", async () => {
    const peer = await startPeer((_req, res, self) => {
      res.writeHead(200, { "content-type": "application/json" });
      streamBody(res, self, 64 * MiB, `{"d":${" ".repeat(64 * 1024 - 5)}`);
    });
    const client = createSapClient({ serviceUrl: `${peer.origin}${SRV}`, ...fast, maxAttempts: 1, maxResponseBytes: MiB });
    const error = (await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr();
    expect(error).toMatchObject({ code: "response_too_large", maxBytes: MiB });
    expect(error.message).toMatchInlineSnapshot(`"GET /sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2('1'): the response body exceeds maxResponseBytes (1048576 bytes)"`);
    // Socket buffers hold a few MiB at most: the rest was never sent because the reader stopped.
    await expect.poll(() => peer.written.closedEarly).toBe(true);
    expect(peer.written.bytes).toBeLessThan(24 * MiB);
  });

  it("refuses a declared Content-Length over the limit without reading the body", async () => {
    const peer = await startPeer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(2 * MiB) });
      res.write("{");
    });
    const client = createSapClient({ serviceUrl: `${peer.origin}${SRV}`, ...fast, maxAttempts: 1, maxResponseBytes: MiB });
    expect((await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr()).toMatchObject({ code: "response_too_large", maxBytes: MiB });
  });

  it("reads only the start of an error body", async () => {
    const peer = await startPeer((_req, res, self) => {
      res.writeHead(500, { "content-type": "text/html" });
      streamBody(res, self, 64 * MiB, `<html>${"x".repeat(64 * 1024 - 6)}`);
    });
    const client = createSapClient({ serviceUrl: `${peer.origin}${SRV}`, ...fast, maxAttempts: 1 });
    const error = (await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr();
    expect(error).toMatchObject({ code: "http_error", status: 500 });
    await expect.poll(() => peer.written.closedEarly).toBe(true);
    expect(peer.written.bytes).toBeLessThan(24 * MiB);
  });

  it("times out a response whose body stalls after the headers", { timeout: 20_000 }, async () => {
    const peer = await startPeer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"d":');
    });
    const client = createSapClient({ serviceUrl: `${peer.origin}${SRV}`, ...fast, timeoutMs: 300, maxAttempts: 2 });
    expect((await client.getEntity("A_ProductionOrder_2", "'1'"))._unsafeUnwrapErr().code).toBe("timeout");
    expect(peer.requests).toHaveLength(2);
  });
});

describe("round trip: released order → confirmation posted exactly once", () => {
  it("posts once despite a lost response and a retried post", async () => {
    sap = await startSap();
    sap.seed(PO, "A_ProductionOrder_2", orders(1));
    const orderClient = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast });
    const [row] = await collect(orderClient.list("A_ProductionOrder_2", { filter: "OrderIsReleased eq 'X'", expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent"] }));
    const order = row?.andThen((r) => mapProductionOrder(r, config))._unsafeUnwrap();
    expect(order?.status).toBe("in_progress");

    const confClient = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    sap.inject({ kind: "drop-response", method: "POST" });
    const first = await postConfirmation(confClient, confirmation, config);
    expect(first._unsafeUnwrap().alreadyPosted).toBe(true);
    const again = await postConfirmation(confClient, confirmation, config);
    expect(again._unsafeUnwrap().alreadyPosted).toBe(true);
    sap.inject({ kind: "status", status: 429, retryAfter: 0, method: "POST" });
    const other = await postConfirmation(confClient, { ...confirmation, confirmationId: "MES-1000123-0010-2" }, config);
    expect(other._unsafeUnwrap().alreadyPosted).toBe(false);

    const stored = sap.rows(CONF, "ProdnOrdConf2");
    expect(stored).toHaveLength(2);
    expect(sap.posts.filter((p) => p.status === 201)).toHaveLength(2);
    const mapped = mapProductionConfirmation({ ...stored[0], PostingDate: "/Date(1772409600000)/", Plant: "1710" }, config)._unsafeUnwrap();
    expect(mapped.externalId).toBe(first._unsafeUnwrap().externalId);
  });
});

describe("exactly once toward a SAP system that accepts a duplicate ExternalSystemConfirmation", () => {
  const externalId = confirmationExternalId(confirmation, config);
  const storedWith = (server: TestSapServer, id: string) => server.rows(CONF, "ProdnOrdConf2").filter((r) => r["ExternalSystemConfirmation"] === id);
  const options = { readAfterWriteDelayMs: 5 };

  it("the test system stores a duplicate key when told to accept it", async () => {
    sap = await startSap({ duplicateExternalConfirmation: "accept" });
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    const body = { OrderID: "1000123", OrderOperation: "0010", ExternalSystemConfirmation: externalId };
    expect((await client.create("ProdnOrdConf2", body)).isOk()).toBe(true);
    expect((await client.create("ProdnOrdConf2", body)).isOk()).toBe(true);
    expect(storedWith(sap, externalId)).toHaveLength(2);
  });

  for (const kind of ["drop-response", "drop-connection"] as const) {
    it(`finds the confirmation after a lost response (${kind}) and on the relay's next attempt, and posts it once`, async () => {
      sap = await startSap({ duplicateExternalConfirmation: "accept" });
      const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
      sap.inject({ kind, method: "POST", pathIncludes: "ProdnOrdConf2" });
      const first = await postConfirmation(client, confirmation, config, options);
      // The fault happened: SAP stored the post and the client never saw the answer.
      expect(sap.faultsApplied).toEqual([{ kind, method: "POST", path: "/sap/opu/odata/sap/API_PROD_ORDER_CONFIRMATION_2_SRV/ProdnOrdConf2" }]);
      // Its consequence: the look-up after the failure found the stored confirmation, and nothing was posted again.
      expect(first._unsafeUnwrap()).toMatchObject({ alreadyPosted: true, externalId, entity: { ExternalSystemConfirmation: externalId } });
      expect(sap.requestCount["GET"]).toBe(2); // before the post, and after the lost response
      expect(sap.posts.map((p) => p.status)).toEqual([201]);
      // The relay's next attempt (its record was not marked sent) looks up before it posts.
      const again = await postConfirmation(client, confirmation, config, options);
      expect(again._unsafeUnwrap()).toMatchObject({ alreadyPosted: true, externalId });
      expect(sap.requestCount["GET"]).toBe(3);
      expect(sap.posts.map((p) => p.status)).toEqual([201]);
      expect(storedWith(sap, externalId)).toHaveLength(1);
    });
  }

  it("re-posts after a failure SAP answered before storing, once the look-up found nothing", async () => {
    sap = await startSap({ duplicateExternalConfirmation: "accept" });
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    sap.inject({ kind: "status", status: 503, retryAfter: 0, method: "POST", pathIncludes: "ProdnOrdConf2" });
    const posted = await postConfirmation(client, confirmation, config, options);
    expect(sap.faultsApplied.map((f) => `${f.method} ${f.kind}`)).toEqual(["POST status"]);
    expect(posted._unsafeUnwrap()).toMatchObject({ alreadyPosted: false, externalId });
    expect([sap.requestCount["GET"], sap.requestCount["POST"]]).toEqual([2, 2]);
    expect(storedWith(sap, externalId)).toHaveLength(1);
  });

  it("gives up after maxAttempts posts, looking up before each", async () => {
    sap = await startSap({ duplicateExternalConfirmation: "accept" });
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast });
    sap.inject({ kind: "status", status: 503, method: "POST", pathIncludes: "ProdnOrdConf2", times: 5 });
    const failed = await postConfirmation(client, confirmation, config, { ...options, maxAttempts: 2 });
    expect(failed._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 503 });
    expect(sap.faultsApplied).toHaveLength(2);
    expect([sap.requestCount["GET"], sap.requestCount["POST"]]).toEqual([3, 2]);
    expect(storedWith(sap, externalId)).toHaveLength(0);
  });

  it("does not post when the look-up fails", async () => {
    sap = await startSap({ duplicateExternalConfirmation: "accept" });
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast, maxAttempts: 2 });
    sap.inject({ kind: "status", status: 500, method: "GET", pathIncludes: "ProdnOrdConf2", times: 2 });
    const failed = await postConfirmation(client, confirmation, config, options);
    expect(failed._unsafeUnwrapErr()).toMatchObject({ code: "http_error", status: 500, method: "GET" });
    expect(sap.faultsApplied).toHaveLength(2);
    expect(sap.requestCount["POST"]).toBeUndefined();
    expect(storedWith(sap, externalId)).toHaveLength(0);
  });

  it("does not take another confirmation for its own when the service ignores the filter", async () => {
    sap = await startSap({ duplicateExternalConfirmation: "accept" });
    sap.seed(CONF, "ProdnOrdConf2", [{ ConfirmationGroup: "0000000007", ConfirmationCount: "00000001", ExternalSystemConfirmation: "6f1c1a39-1f5e-4a3a-9a53-3c3f7a9f0d11" }]);
    const ignoringFilter: typeof fetch = (input, init) => fetch(String(input).replace(/\$filter=[^&]*&/, ""), init);
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), ...fast, fetch: ignoringFilter });
    const failed = await postConfirmation(client, confirmation, config, options);
    expect(failed._unsafeUnwrapErr().code).toBe("invalid_response");
    expect(failed._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"GET ProdnOrdConf2 with $filter ExternalSystemConfirmation eq guid'6a64af14-f716-5150-9ebf-dfc156dde5f3' returned a confirmation with ExternalSystemConfirmation "6f1c1a39-1f5e-4a3a-9a53-3c3f7a9f0d11": the service did not apply the filter, so nothing is posted"`);
    expect(sap.requestCount["POST"]).toBeUndefined();
  });
});
