import type { EdmxFunctionImport, EdmxModel } from "../edmx.js";
import { checkFunctionImport, parseUriLiteral } from "../edmx-check.js";

/** The stored rows of one service that a function import reads and writes. */
export interface FunctionImportStore {
  readonly model: EdmxModel;
  /** Rows of an entity set (created and seeded array rows; generated rows are not changed). */
  rows(entitySet: string): Record<string, unknown>[];
  /** Replace the rows of an entity set. */
  store(entitySet: string, rows: Record<string, unknown>[]): void;
  /** The next number of a counter, as creates number new keys. */
  next(counter: string, start: number): number;
  /** The property that must be unique on create per entity set (`ExternalSystemConfirmation` of `ProdnOrdConf2` by default). */
  readonly unique: Readonly<Record<string, string>>;
}

/** One detail of an OData error: what, and where in the call. */
interface FunctionImportErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

/** What a function import call did: the returned entity, or an OData error. */
export type FunctionImportOutcome =
  | { readonly ok: true; readonly status: number; readonly parameters: Readonly<Record<string, unknown>>; readonly entitySet: string; readonly entity: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly status: number;
      readonly parameters: Readonly<Record<string, unknown>>;
      readonly code: string;
      readonly message: string;
      readonly details: readonly FunctionImportErrorDetail[];
    };

type Parameters = Readonly<Record<string, unknown>>;

const failure = (status: number, parameters: Parameters, message: string, details: readonly FunctionImportErrorDetail[] = []): FunctionImportOutcome => ({
  ok: false,
  status,
  parameters,
  code: "/IWBEP/CM_MGW_RT/000",
  message,
  details,
});

/** Leading zeros do not distinguish SAP keys: `0001` and `1` name the same item. */
const sameKey = (a: unknown, b: unknown) => typeof a === "string" && typeof b === "string" && a.replace(/^0+(?=\d)/, "") === b.replace(/^0+(?=\d)/, "");

const itemsOf = (header: Record<string, unknown>): Record<string, unknown>[] => {
  const nav = header["to_MaterialDocumentItem"] as { results?: Record<string, unknown>[] } | undefined;
  return Array.isArray(nav?.results) ? nav.results : [];
};

/**
 * `Cancel` / `CancelItem` of API_MATERIAL_DOCUMENT_SRV: post a reversal document whose items carry
 * the reversal movement type (the original + 1, SAP's rule in docs/model/material-movement.md) and
 * `ReversedMaterialDocumentYear/ReversedMaterialDocument/ReversedMaterialDocumentItem`; mark the
 * reversed items `GoodsMovementIsCancelled`. A cancelled item cannot be cancelled again.
 */
function cancelMaterialDocument(store: FunctionImportStore, fn: EdmxFunctionImport, p: Parameters): FunctionImportOutcome {
  const year = p["MaterialDocumentYear"];
  const document = p["MaterialDocument"];
  if (typeof year !== "string" || typeof document !== "string") return failure(400, p, `${fn.name} needs MaterialDocumentYear and MaterialDocument`);
  const headers = store.rows("A_MaterialDocumentHeader");
  const original = headers.find((h) => sameKey(h["MaterialDocumentYear"], year) && sameKey(h["MaterialDocument"], document));
  if (original === undefined) return failure(404, p, `Material document ${document} ${year} does not exist`);
  const all = itemsOf(original);
  const targets = fn.name === "CancelItem" ? all.filter((i) => sameKey(i["MaterialDocumentItem"], p["MaterialDocumentItem"])) : all;
  if (targets.length === 0) return failure(404, p, `Material document ${document} ${year} has no item ${String(p["MaterialDocumentItem"])}`);
  const cancelled = targets.find((i) => i["GoodsMovementIsCancelled"] === true);
  if (cancelled !== undefined) return failure(400, p, `Item ${String(cancelled["MaterialDocumentItem"])} of material document ${document} ${year} is already cancelled`);
  const notReversible = targets.find((i) => !/^\d{3}$/.test(String(i["GoodsMovementType"] ?? "")));
  if (notReversible !== undefined) return failure(400, p, `Movement type ${String(notReversible["GoodsMovementType"])} has no reversal movement type`);
  const newYear = String(original["MaterialDocumentYear"]);
  const newDocument = String(store.next("A_MaterialDocumentHeader.MaterialDocument", 4_900_000_000)).padStart(10, "0");
  const postingDate = p["PostingDate"] ?? original["PostingDate"];
  const items = targets.map((item, i) => {
    const { GoodsMovementIsCancelled: _c, ReversedMaterialDocumentYear: _y, ReversedMaterialDocument: _d, ReversedMaterialDocumentItem: _i, ...rest } = item;
    return {
      ...rest,
      MaterialDocumentYear: newYear,
      MaterialDocument: newDocument,
      MaterialDocumentItem: String(i + 1).padStart(4, "0"),
      GoodsMovementType: String(Number(item["GoodsMovementType"]) + 1).padStart(3, "0"),
      GoodsMovementIsCancelled: false,
      ReversedMaterialDocumentYear: String(item["MaterialDocumentYear"] ?? original["MaterialDocumentYear"]),
      ReversedMaterialDocument: String(item["MaterialDocument"] ?? original["MaterialDocument"]),
      ReversedMaterialDocumentItem: String(item["MaterialDocumentItem"]),
    };
  });
  for (const item of targets) item["GoodsMovementIsCancelled"] = true;
  const { to_MaterialDocumentItem: _items, ...originalHeader } = original;
  const header: Record<string, unknown> = { ...originalHeader, MaterialDocumentYear: newYear, MaterialDocument: newDocument, PostingDate: postingDate, DocumentDate: postingDate };
  store.store("A_MaterialDocumentHeader", [...headers, { ...header, to_MaterialDocumentItem: { results: items } }]);
  return { ok: true, status: 200, parameters: p, entitySet: "A_MaterialDocumentHeader", entity: header };
}

/**
 * `CancelProdnOrdConf` of API_PROD_ORDER_CONFIRMATION_2_SRV: post the cancelling confirmation
 * (`IsReversal`, the next counter of the same group, the original's quantities) and mark the
 * original `IsReversed`. A cancelled confirmation or a cancellation cannot be cancelled.
 */
function cancelConfirmation(store: FunctionImportStore, fn: EdmxFunctionImport, p: Parameters): FunctionImportOutcome {
  const group = p["ConfirmationGroup"];
  const count = p["ConfirmationCount"];
  if (typeof group !== "string" || typeof count !== "string") return failure(400, p, `${fn.name} needs ConfirmationGroup and ConfirmationCount`);
  const rows = store.rows("ProdnOrdConf2");
  const original = rows.find((r) => sameKey(r["ConfirmationGroup"], group) && sameKey(r["ConfirmationCount"], count));
  if (original === undefined) return failure(404, p, `Confirmation ${group}/${count} does not exist`);
  if (original["IsReversed"] === true) return failure(400, p, `Confirmation ${group}/${count} is already cancelled`);
  if (original["IsReversal"] === true) return failure(400, p, `Confirmation ${group}/${count} is a cancellation and cannot be cancelled`);
  const uniqueProp = store.unique["ProdnOrdConf2"];
  const external = p["ExternalSystemConfirmation"];
  if (uniqueProp === "ExternalSystemConfirmation" && typeof external === "string" && rows.some((r) => typeof r[uniqueProp] === "string" && (r[uniqueProp] as string).toLowerCase() === external.toLowerCase())) {
    return failure(400, p, `ExternalSystemConfirmation ${external} was already posted`);
  }
  const counts = rows.filter((r) => sameKey(r["ConfirmationGroup"], group)).map((r) => Number(r["ConfirmationCount"]) || 0);
  const nextCount = String(Math.max(0, ...counts) + 1).padStart(8, "0");
  const navigations = new Set(Object.keys(store.model.entityTypes["ProdnOrdConf2Type"]?.navigations ?? {}));
  const copy = Object.fromEntries(Object.entries(original).filter(([k]) => !navigations.has(k) && k !== "ExternalSystemConfirmation" && k !== "ConfirmationText"));
  const reversal: Record<string, unknown> = {
    ...copy,
    ConfirmationCount: nextCount,
    IsReversal: true,
    IsReversed: false,
    PostingDate: p["PostingDate"] ?? original["PostingDate"],
    ...(p["ConfirmationText"] === undefined || p["ConfirmationText"] === null ? {} : { ConfirmationText: p["ConfirmationText"] }),
    ...(typeof external === "string" ? { ExternalSystemConfirmation: external } : {}),
  };
  original["IsReversed"] = true;
  store.store("ProdnOrdConf2", [...rows, reversal]);
  return { ok: true, status: 200, parameters: p, entitySet: "ProdnOrdConf2", entity: reversal };
}

const SEMANTICS: Readonly<Record<string, (store: FunctionImportStore, fn: EdmxFunctionImport, p: Parameters) => FunctionImportOutcome>> = {
  "API_MATERIAL_DOCUMENT_SRV/Cancel": cancelMaterialDocument,
  "API_MATERIAL_DOCUMENT_SRV/CancelItem": cancelMaterialDocument,
  "API_PROD_ORDER_CONFIRMATION_2_SRV/CancelProdnOrdConf": cancelConfirmation,
};

/**
 * Run a function import call: check method and parameters against the EDMX (400 with one error
 * detail per issue), then apply the SAP behaviour the test server implements for it; a function
 * import without one answers 501.
 *
 * @param service - the service name, e.g. `API_MATERIAL_DOCUMENT_SRV`
 * @param fn - the function import from the service's EDMX
 * @param method - the HTTP method of the request
 * @param query - the request's query parameters (`$`-options are ignored)
 * @param store - the service's rows
 * @returns the returned entity or the error
 */
export function callFunctionImport(service: string, fn: EdmxFunctionImport, method: string, query: URLSearchParams, store: FunctionImportStore): FunctionImportOutcome {
  const literals: Record<string, string> = {};
  for (const [k, v] of query) if (!k.startsWith("$") && k !== "sap-client") literals[k] = v;
  const issues = checkFunctionImport(store.model, { method, functionImport: fn.name, parameters: literals });
  if (issues.length > 0) {
    return failure(400, literals, `Invalid call of ${fn.name}: ${issues[0]?.message ?? ""}`, issues.map((i) => ({ code: "/IWBEP/CM_MGW_RT/000", message: i.message, target: i.path })));
  }
  const parameters: Record<string, unknown> = {};
  for (const p of fn.parameters) if (Object.hasOwn(literals, p.name)) parameters[p.name] = parseUriLiteral(p, literals[p.name] as string);
  const run = SEMANTICS[`${service}/${fn.name}`];
  if (run === undefined) return failure(501, parameters, `Function import ${fn.name} is not implemented by the test SAP system`);
  return run(store, fn, parameters);
}
