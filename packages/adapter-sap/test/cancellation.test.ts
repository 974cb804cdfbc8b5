import { parseMaterialMovement, type MaterialMovement, type ProductionConfirmation } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { buildConfirmationCancel, buildConfirmationCreate, buildMaterialDocumentCancel, buildMaterialDocumentCreate } from "../src/build.js";
import { createSapClient } from "../src/client.js";
import { mapMaterialDocument } from "../src/map-material-movement.js";
import { mapProductionConfirmation } from "../src/map-production-confirmation.js";
import type { TestSapServer } from "../src/test-server/index.js";
import { fixture, testConfig } from "./helpers.js";
import { callFunctionImport, startSap } from "./sap-system.js";

const MD = "API_MATERIAL_DOCUMENT_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const config = testConfig();
let sap: TestSapServer | undefined;
afterEach(async () => {
  await sap?.close();
  sap = undefined;
});

type Doc = { d: Record<string, unknown> & { to_MaterialDocumentItem: { results: Record<string, unknown>[] } } };

describe("cancelling a posted goods movement end to end", () => {
  it("refuses the reversal as a create and cancels the original item with CancelItem, keeping the link", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(MD), baseDelayMs: 1 });
    const [issue] = mapMaterialDocument(fixture("material-document-4900000200.json"), config)._unsafeUnwrap() as [MaterialMovement];
    const created = (await client.create("A_MaterialDocumentHeader", buildMaterialDocumentCreate([issue], config, { entryUnits: ["ST"] })._unsafeUnwrap()))._unsafeUnwrap();
    const key = `MaterialDocumentYear='${String(created.entity["MaterialDocumentYear"])}',MaterialDocument='${String(created.entity["MaterialDocument"])}'`;
    const read = async (k: string) => ({ d: (await client.getEntity("A_MaterialDocumentHeader", k, { expand: ["to_MaterialDocumentItem"] }))._unsafeUnwrap() }) as Doc;
    const [posted] = mapMaterialDocument(await read(key), config)._unsafeUnwrap() as [MaterialMovement];

    const reversal = parseMaterialMovement({ ...posted, movementId: "MES-GI-7-REV", isReversal: true, reverses: posted.movementId, postingDate: "2026-03-04", sourceRefs: [{ system: "MES", kind: "movement", key: "GI-7-REV" }] })._unsafeUnwrap();
    const postsBefore = sap.posts.length;
    expect(buildMaterialDocumentCreate([reversal], config, { entryUnits: ["ST"] })._unsafeUnwrapErr().path).toBe("/0/reverses");
    expect(sap.posts.length).toBe(postsBefore);

    const cancel = buildMaterialDocumentCancel(reversal)._unsafeUnwrap();
    const answer = await callFunctionImport(sap.serviceUrl(MD), cancel);
    expect(answer.status).toBe(200);
    const header = (answer.body as { d: Record<string, unknown> }).d;
    const [mapped] = mapMaterialDocument(await read(`MaterialDocumentYear='${String(header["MaterialDocumentYear"])}',MaterialDocument='${String(header["MaterialDocument"])}'`), config)._unsafeUnwrap() as [MaterialMovement];
    expect({ kind: mapped.kind, type: mapped.sourceMovementType, isReversal: mapped.isReversal, reverses: mapped.reverses, postingDate: mapped.postingDate, quantity: mapped.quantity }).toEqual({
      kind: "consumed",
      type: "262",
      isReversal: true,
      reverses: posted.movementId,
      postingDate: "2026-03-04",
      quantity: posted.quantity,
    });
    const original = (await read(key)).d.to_MaterialDocumentItem.results[0];
    expect(original?.["GoodsMovementIsCancelled"]).toBe(true);

    // A second cancellation of the same item is refused by SAP, and no second reversal document exists.
    const again = await callFunctionImport(sap.serviceUrl(MD), cancel);
    expect(again.status).toBe(400);
    const reversals = sap.rows(MD, "A_MaterialDocumentHeader").filter((h) => (h["to_MaterialDocumentItem"] as { results: Record<string, unknown>[] }).results.some((i) => i["ReversedMaterialDocument"] !== undefined && i["ReversedMaterialDocument"] !== ""));
    expect(reversals).toHaveLength(1);
    expect(sap.posts.filter((p) => p.functionImport === "CancelItem").map((p) => p.status)).toEqual([200, 400]);
  });
});

describe("cancelling a posted confirmation end to end", () => {
  it("cancels with CancelProdnOrdConf under the cancellation's own external id, once", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), baseDelayMs: 1 });
    const mes: ProductionConfirmation = {
      confirmationId: "MES-4711-0010-3",
      order: { orderId: "1000123", operationId: "0010" },
      site: { id: "1710" },
      yieldQuantity: { value: "120.000", unit: "H87" },
      isFinal: false,
      postingDate: "2026-03-02",
      revision: "0",
      sourceRefs: [{ system: "MES", kind: "confirmation", key: "MES-4711-0010-3" }],
    };
    const created = (await client.create("ProdnOrdConf2", buildConfirmationCreate(mes, config, { unit: "ST" })._unsafeUnwrap()))._unsafeUnwrap();
    const posted = mapProductionConfirmation(created.entity, config)._unsafeUnwrap();

    const cancelRecord: ProductionConfirmation = { ...mes, confirmationId: "MES-4711-0010-3-CANCEL", reverses: posted.confirmationId, postingDate: "2026-03-03", text: "counted twice" };
    expect(buildConfirmationCreate(cancelRecord, config, { unit: "ST" })._unsafeUnwrapErr().path).toBe("/reverses");
    const request = buildConfirmationCancel(cancelRecord, config)._unsafeUnwrap();
    const answer = await callFunctionImport(sap.serviceUrl(CONF), request);
    expect(answer.status).toBe(200);
    const reversalRow = (answer.body as { d: Record<string, unknown> }).d;
    const reversal = mapProductionConfirmation(reversalRow, config, { reverses: posted.confirmationId })._unsafeUnwrap();
    expect({ reverses: reversal.reverses, yield: reversal.yieldQuantity, text: reversal.text, postingDate: reversal.postingDate, group: reversal.confirmationId.split("/")[0] }).toEqual({
      reverses: posted.confirmationId,
      yield: posted.yieldQuantity,
      text: "counted twice",
      postingDate: "2026-03-03",
      group: posted.confirmationId.split("/")[0],
    });
    const stored = sap.rows(CONF, "ProdnOrdConf2");
    expect(stored.find((r) => r["ConfirmationCount"] === created.entity["ConfirmationCount"])?.["IsReversed"]).toBe(true);

    // The retried cancellation carries the same ExternalSystemConfirmation, so SAP refuses it: one reversal only.
    const retry = await callFunctionImport(sap.serviceUrl(CONF), request);
    expect(retry.status).toBe(400);
    expect(sap.rows(CONF, "ProdnOrdConf2").filter((r) => r["IsReversal"] === true)).toHaveLength(1);
  });
});
