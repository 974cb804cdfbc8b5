// CBV 2.0 vocabulary helpers and Millwright's private identifiers for things without a GS1 key.
import type { MaterialRef, StockLocation } from "@millwright/model";

/** The JSON-LD namespace of Millwright's EPCIS extension fields (`mw:movementId` …). */
export const MILLWRIGHT_EPCIS_NAMESPACE = "https://schemas.millwright.dev/v1/epcis/";

/** The normative EPCIS 2.0 JSON-LD context. */
export const EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

const CBV = "https://ref.gs1.org/cbv/";

/**
 * Reduces a CBV vocabulary value in any of its forms (bare `receiving`, web URI
 * `https://ref.gs1.org/cbv/BizStep-receiving`, URN `urn:epcglobal:cbv:bizstep:receiving`) to the
 * bare name.
 *
 * @param value - the value as found in the event
 * @param kind - the vocabulary: `BizStep`, `Disp`, `BTT`, `SDT` or `ER` (error reason)
 * @returns the bare name, or the value unchanged when it is a private (non-CBV) value
 * @example
 * toBareCbv("urn:epcglobal:cbv:disp:in_transit", "Disp"); // "in_transit"
 */
export function toBareCbv(value: string, kind: "BizStep" | "Disp" | "BTT" | "SDT" | "ER"): string {
  const web = `${CBV}${kind}-`;
  if (value.startsWith(web)) return value.slice(web.length);
  const urn = `urn:epcglobal:cbv:${kind.toLowerCase()}:`;
  if (value.startsWith(urn)) return value.slice(urn.length);
  return value;
}

const MATERIAL_CLASS = "urn:millwright:class:";
const LOCATION = "urn:millwright:location:";
const ORDER = "urn:millwright:order:";

/**
 * Builds Millwright's private class URI for a material (and lot) without a GTIN.
 *
 * @param material - the material
 * @param batchId - the lot, when lot-level
 * @returns `urn:millwright:class:<material>[:<lot>]`, parts percent-encoded
 * @example
 * toPrivateClass({ id: "RM-1" }, "L1"); // "urn:millwright:class:RM-1:L1"
 */
export function toPrivateClass(material: MaterialRef, batchId?: string): string {
  return MATERIAL_CLASS + encodeURIComponent(material.id) + (batchId === undefined ? "" : `:${encodeURIComponent(batchId)}`);
}

/**
 * Reads a class URI built by {@link toPrivateClass}.
 *
 * @param uri - an `epcClass` or EPC
 * @returns the material id and lot, or `undefined` when `uri` is not Millwright's class URI
 * @example
 * fromPrivateClass("urn:millwright:class:RM-1:L1"); // { materialId: "RM-1", batchId: "L1" }
 */
export function fromPrivateClass(uri: string): { readonly materialId: string; readonly batchId?: string } | undefined {
  if (!uri.startsWith(MATERIAL_CLASS)) return undefined;
  const [m, b, ...rest] = uri.slice(MATERIAL_CLASS.length).split(":");
  if (m === undefined || m === "" || rest.length > 0) return undefined;
  try {
    return b === undefined ? { materialId: decodeURIComponent(m) } : { materialId: decodeURIComponent(m), batchId: decodeURIComponent(b) };
  } catch {
    return undefined;
  }
}

/** A place without its stock type: what an EPCIS location identifier names. */
export type Place = Omit<StockLocation, "stockType">;

/**
 * Builds Millwright's private location URI for a place without a GLN.
 *
 * @param place - site, storage location, warehouse and bin
 * @returns `urn:millwright:location:<site>:<storageLocation>:<warehouse>:<bin>`, empty parts for absent ones
 * @example
 * toPrivateLocation({ site: { id: "1710" }, storageLocation: "171A" }); // "urn:millwright:location:1710:171A::"
 */
export function toPrivateLocation(place: Place): string {
  const parts = [place.site.id, place.storageLocation ?? "", place.warehouse ?? "", place.bin ?? ""];
  return LOCATION + parts.map(encodeURIComponent).join(":");
}

/**
 * Reads a location URI built by {@link toPrivateLocation}.
 *
 * @param uri - a `readPoint`, `bizLocation`, source or destination id
 * @returns the place, or `undefined` when `uri` is not Millwright's location URI
 * @example
 * fromPrivateLocation("urn:millwright:location:1710:171A::"); // { site: { id: "1710" }, storageLocation: "171A" }
 */
export function fromPrivateLocation(uri: string): Place | undefined {
  if (!uri.startsWith(LOCATION)) return undefined;
  const parts = uri.slice(LOCATION.length).split(":");
  if (parts.length !== 4) return undefined;
  try {
    const [site = "", storageLocation = "", warehouse = "", bin = ""] = parts.map(decodeURIComponent);
    if (site === "") return undefined;
    return {
      site: { id: site },
      ...(storageLocation !== "" ? { storageLocation } : {}),
      ...(warehouse !== "" ? { warehouse } : {}),
      ...(bin !== "" ? { bin } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Builds the `bizTransaction` URI of a work order (type `prodorder`).
 *
 * @param orderId - the work order number
 * @returns `urn:millwright:order:<orderId>`
 * @example
 * toOrderTransaction("1000123"); // "urn:millwright:order:1000123"
 */
export function toOrderTransaction(orderId: string): string {
  return ORDER + encodeURIComponent(orderId);
}

/**
 * Reads an order id from a `prodorder` bizTransaction: Millwright's URN, else the value as is.
 *
 * @param uri - the `bizTransaction` value
 * @returns the work order number
 * @example
 * fromOrderTransaction("urn:millwright:order:1000123"); // "1000123"
 */
export function fromOrderTransaction(uri: string): string {
  if (!uri.startsWith(ORDER)) return uri;
  try {
    return decodeURIComponent(uri.slice(ORDER.length));
  } catch {
    return uri;
  }
}
