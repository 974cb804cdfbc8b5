import { afterEach, describe, expect, it } from "vitest";
import { startSap } from "../../test/sap-system.js";
import type { TestSapServer } from "./index.js";

const DOC = "API_MATERIAL_DOCUMENT_SRV";
let sap: TestSapServer | undefined;
afterEach(async () => {
  await sap?.close();
  sap = undefined;
});

async function csrf(server: TestSapServer, service: string): Promise<Record<string, string>> {
  const head = await fetch(server.serviceUrl(service), { method: "HEAD", headers: { "x-csrf-token": "Fetch" } });
  const cookie = (head.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
  return { "x-csrf-token": head.headers.get("x-csrf-token") ?? "", cookie, "content-type": "application/json" };
}

describe("test SAP system", () => {
  it("serves $metadata and Gateway-style collections with deferred navigations", async () => {
    sap = await startSap({ pageSize: 2 });
    const metadata = await fetch(`${sap.serviceUrl(DOC)}$metadata`);
    expect((await metadata.text()).includes('EntityType Name="A_MaterialDocumentHeaderType"')).toBe(true);
    sap.seed(DOC, "A_MaterialDocumentHeader", { count: 3, row: (i) => ({ MaterialDocumentYear: "2026", MaterialDocument: String(4900000000 + i) }) });
    const page = (await (await fetch(`${sap.serviceUrl(DOC)}A_MaterialDocumentHeader?$top=3`)).json()) as { d: { results: Record<string, unknown>[]; __next?: string } };
    expect(page.d.results).toHaveLength(2);
    expect(page.d.__next).toContain("$skiptoken=2");
    expect(page.d.results[0]).toMatchObject({
      __metadata: { type: "API_MATERIAL_DOCUMENT_SRV.A_MaterialDocumentHeaderType" },
      to_MaterialDocumentItem: { __deferred: { uri: expect.stringContaining("A_MaterialDocumentHeader(MaterialDocumentYear='2026',MaterialDocument='4900000000')/to_MaterialDocumentItem") } },
    });
    const rest = (await (await fetch(page.d.__next ?? "")).json()) as { d: { results: unknown[]; __next?: string } };
    expect([rest.d.results.length, rest.d.__next]).toEqual([1, undefined]);
  });

  it("accepts a deep insert checked against the EDMX and numbers it", async () => {
    sap = await startSap();
    const headers = await csrf(sap, DOC);
    const body = { GoodsMovementCode: "04", PostingDate: "/Date(1772496000000)/", to_MaterialDocumentItem: { results: [{ Material: "FG-4711", Plant: "1710", GoodsMovementType: "321", QuantityInEntryUnit: "20", EntryUnit: "ST" }] } };
    const created = await fetch(`${sap.serviceUrl(DOC)}A_MaterialDocumentHeader`, { method: "POST", headers, body: JSON.stringify(body) });
    expect(created.status).toBe(201);
    const entity = ((await created.json()) as { d: Record<string, unknown> }).d;
    expect([entity["MaterialDocumentYear"], entity["MaterialDocument"]]).toEqual(["2026", "4900000001"]);
    expect(sap.posts).toHaveLength(1);
  });

  it("rejects a create on a non-creatable set, bad JSON, and a wrong token", async () => {
    sap = await startSap();
    const headers = await csrf(sap, DOC);
    const item = await fetch(`${sap.serviceUrl(DOC)}A_MaterialDocumentItem`, { method: "POST", headers, body: "{}" });
    expect(item.status).toBe(405);
    const bad = await fetch(`${sap.serviceUrl(DOC)}A_MaterialDocumentHeader`, { method: "POST", headers, body: "{" });
    expect(((await bad.json()) as { error: { message: { value: string } } }).error.message.value).toMatchInlineSnapshot(`"The request body is not valid JSON"`);
    const wrong = await fetch(`${sap.serviceUrl(DOC)}A_MaterialDocumentHeader`, { method: "POST", headers: { ...headers, "x-csrf-token": "nope" }, body: "{}" });
    expect([wrong.status, wrong.headers.get("x-csrf-token")]).toEqual([403, "Required"]);
  });

  it("refuses to start on invalid EDMX and to seed unknown sets", async () => {
    await expect(import("./index.js").then((m) => m.startTestSapServer({ services: [{ name: "X", edmx: "<nope" }] }))).rejects.toThrow("test SAP server: X");
    sap = await startSap();
    expect(() => sap?.seed(DOC, "A_Nope", [])).toThrow("has no entity set A_Nope");
  });
});
