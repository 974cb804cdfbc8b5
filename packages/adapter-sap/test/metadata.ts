import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEdmx, type EdmxModel } from "../src/edmx.js";

/** The SAP EDMX files shipped in metadata/ (copied from shared/reference/sap/edmx; provenance in metadata/README.md). */
export const SERVICES = [
  "API_PRODUCTION_ORDER_2_SRV",
  "API_PROD_ORDER_CONFIRMATION_2_SRV",
  "API_MATERIAL_DOCUMENT_SRV",
  "API_INSPECTIONLOT_SRV",
] as const;

/** Read one shipped EDMX as text. */
export function readEdmx(service: (typeof SERVICES)[number]): string {
  return readFileSync(fileURLToPath(new URL(`../metadata/${service}.edmx`, import.meta.url)), "utf8");
}

/** Parse one shipped EDMX; throws in tests only. */
export function loadModel(service: (typeof SERVICES)[number]): EdmxModel {
  return parseEdmx(readEdmx(service))._unsafeUnwrap();
}
