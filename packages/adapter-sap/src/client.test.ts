import type { ProductionConfirmation } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { startSap } from "../test/sap-system.js";
import type { TestSapServer } from "./test-server/index.js";
import { createSapClient, type SapClientLogEntry, type SapClientOptions } from "./client.js";
import { mapProductionOrder } from "./map-work-order.js";
import { mapProductionConfirmation } from "./map-production-confirmation.js";
import { postConfirmation } from "./post.js";

const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const config = testConfig();
const fast = { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2_000 } satisfies Partial<SapClientOptions>;

let sap: TestSapServer | undefined;
afterEach(async () => {
  await sap?.close();
  sap = undefined;
});

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
  yieldQuantity: { value: "120.000", unit: "H87" },
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
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), ...fast, timeoutMs: 150, log: (e) => log.push(e) });
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
