import { describe, expect, it } from "vitest";
import { checkAgainstEdmx } from "../src/edmx-check.js";
import { fixture } from "./helpers.js";
import { loadModel } from "./metadata.js";

type Row = Record<string, unknown>;

/** Drop what is not a property value: metadata, deferred links, customer fields; keep expanded rows as deep inserts. */
function asBody(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === "__metadata" || /^(ZZ1_|YY1_)/.test(k)) continue;
    if (typeof v === "object" && v !== null && "__deferred" in v) continue;
    if (typeof v === "object" && v !== null && Array.isArray((v as { results?: unknown }).results)) {
      out[k] = { results: (v as { results: Row[] }).results.map(asBody) };
    } else if (typeof v === "object" && v !== null && !Array.isArray(v)) out[k] = asBody(v as Row);
    else out[k] = v;
  }
  return out;
}

describe("fixtures use only SAP's metadata", () => {
  it.each([
    ["production-order-1000123.json", "API_PRODUCTION_ORDER_2_SRV", "A_ProductionOrder_2"],
    ["material-document-4900000123.json", "API_MATERIAL_DOCUMENT_SRV", "A_MaterialDocumentHeader"],
    ["material-document-4900000200.json", "API_MATERIAL_DOCUMENT_SRV", "A_MaterialDocumentHeader"],
    ["inspection-lot-040000001234.json", "API_INSPECTIONLOT_SRV", "A_InspectionLot"],
    ["inspection-lot-usage-decision-040000001234.json", "API_INSPECTIONLOT_SRV", "A_InspLotUsageDecision"],
    ["production-confirmation-12345-3.json", "API_PROD_ORDER_CONFIRMATION_2_SRV", "ProdnOrdConf2"],
  ] as const)("%s: every property exists with a compatible type and length", (name, service, set) => {
    const body = asBody((fixture(name) as { d: Row }).d);
    expect(checkAgainstEdmx(loadModel(service), set, body)).toEqual([]);
  });
});
