// The effects of the built-in workflows at their peers: SAP postings and WMS requests, each
// carrying the step's idempotency key, and their failures as retryable or permanent step errors.
import {
  buildHoldTransferPosting,
  mapMaterialDocument,
  type SapAdapterConfig,
  type SapClient,
  type SapClientError,
} from "@millwright/adapter-sap";
import { sendWmsRequest, toHoldRequest, type WmsClientError, type WmsRequest } from "@millwright/adapter-wms";
import { traceContextOf } from "@millwright/events";
import { permanent, retryable, type HandlerError } from "@millwright/idempotency";
import type { MaterialMovement, QualityHold, StockType } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { TraceCarrier } from "../types.js";

/** HTTP statuses after which SAP may or may not have done the work: worth another attempt. */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * A SAP client error as a step error: a 4xx answer (the request breaks a rule of SAP's) is
 * permanent, everything else (timeouts, network errors, 5xx, 429, an unreadable answer) is
 * retryable; the next attempt looks the posting up before it posts again.
 *
 * @param error - the client's error
 * @param what - what was attempted, for the message
 * @returns the step error
 * @example
 * sapStepError({ code: "timeout", method: "POST", path: "/x", message: "timed out" }, "hold posting"); // retryable
 */
export function sapStepError(error: SapClientError, what: string): HandlerError {
  const message = `${what}: ${error.message}`;
  if (error.code === "http_error" && error.status < 500 && !TRANSIENT_STATUS.has(error.status)) return permanent(message, error);
  if (error.code === "response_too_large") return permanent(message, error);
  return retryable(message, error);
}

/**
 * A WMS client error as a step error: a contract error or an answer the WMS refused (4xx) is
 * permanent; an unavailable WMS (5xx, network) is retryable, and the repeated request carries the
 * same request id, which the WMS de-duplicates.
 *
 * @param error - the client's error
 * @param what - what was attempted, for the message
 * @returns the step error
 * @example
 * wmsStepError({ code: "unavailable", attempts: 1, message: "503" }, "block request"); // retryable
 */
export function wmsStepError(error: WmsClientError, what: string): HandlerError {
  const message = `${what}: ${error.message}${error.code === "rejected" && error.body !== "" ? ` (${error.body})` : ""}`;
  return error.code === "unavailable" ? retryable(message, error) : permanent(message, error);
}

/**
 * The `ReferenceDocument` (String 16, upper case) a SAP posting of a step carries: the first 16
 * hexadecimal digits of the step's idempotency key. SAP's material document API has no
 * idempotency key of its own and does not refuse a second posting with the same reference, so
 * the step looks the reference up before it posts (see {@link postHoldTransfer}).
 *
 * @param idempotencyKey - the step's key (a UUID)
 * @returns the reference
 * @example
 * postingReference("3f0c6a52-9b1e-5c7d-8e2f-0a1b2c3d4e5f"); // "3F0C6A529B1E5C7D"
 */
export function postingReference(idempotencyKey: string): string {
  return idempotencyKey.replace(/-/g, "").slice(0, 16).toUpperCase();
}

/** One movement of a posting: its canonical id and the stock type it moved into. */
export interface BookedMovement {
  readonly movementId: string;
  readonly toStockType: StockType | null;
}

function booked(movements: Result<readonly MaterialMovement[], unknown>): readonly BookedMovement[] {
  return movements.isOk() ? movements.value.map((m) => ({ movementId: m.movementId, toStockType: m.to?.stockType ?? null })) : [];
}

/** A hold's transfer posting as SAP holds it. */
export interface HoldPosting {
  readonly materialDocumentYear: string;
  readonly materialDocument: string;
  /** The `ReferenceDocument` the posting carries. */
  readonly reference: string;
  /** Whether the posting was found under its reference rather than posted by this call. */
  readonly alreadyPosted: boolean;
  /** The movements SAP booked (canonical movement id and the stock type they moved into); empty when the items were not readable. */
  readonly movements: readonly BookedMovement[];
}

/** What {@link postHoldTransfer} needs. */
export interface HoldTransferRequest {
  /** A client of API_MATERIAL_DOCUMENT_SRV. */
  readonly client: SapClient;
  readonly config: SapAdapterConfig;
  /** A placed hold (blocks) or a released one (unblocks). */
  readonly hold: QualityHold;
  /** The `ReferenceDocument` the posting carries: {@link postingReference} of the step's idempotency key. */
  readonly reference: string;
  /** The SAP unit of the held quantity, as SAP sent it (the lot's unit); default from the unit table. */
  readonly unit?: string;
  /** The trace the posting belongs to. */
  readonly trace?: TraceCarrier | undefined;
}

const HEADERS = "A_MaterialDocumentHeader";

function traceHeaders(trace: TraceCarrier | undefined): Record<string, string> {
  if (trace === undefined) return {};
  return { traceparent: trace.traceparent, ...(trace.tracestate === undefined ? {} : { tracestate: trace.tracestate }) };
}

async function findPosting(request: HoldTransferRequest, reference: string): Promise<Result<HoldPosting | undefined, HandlerError>> {
  const filter = `ReferenceDocument eq '${reference}'`;
  for await (const row of request.client.list(HEADERS, { filter, top: 1, expand: ["to_MaterialDocumentItem"] }, { headers: traceHeaders(request.trace) })) {
    if (row.isErr()) return err(sapStepError(row.error, `looking up the hold posting with ReferenceDocument ${reference}`));
    const found = row.value["ReferenceDocument"];
    if (found !== reference) {
      // Another posting means the service ignored the filter: never take it for ours.
      return err(permanent(`GET ${HEADERS} with $filter ${filter} returned a document with ReferenceDocument ${JSON.stringify(found)}: the service did not apply the filter`));
    }
    const movements = mapMaterialDocument(row.value, request.config);
    return ok({
      materialDocumentYear: String(row.value["MaterialDocumentYear"]),
      materialDocument: String(row.value["MaterialDocument"]),
      reference,
      alreadyPosted: true,
      movements: booked(movements),
    });
  }
  return ok(undefined);
}

/** The posting date of a hold change: the calendar date of the placement or of the decision, as the source wrote it. */
function postingDateOf(hold: QualityHold): string {
  const at = hold.status === "placed" ? hold.placedAt : (hold.disposition?.decidedAt ?? hold.placedAt);
  return at.slice(0, 10);
}

/**
 * Post a hold's transfer posting to SAP at most once per idempotency key: look the posting up by
 * its `ReferenceDocument` first (an earlier attempt may have reached SAP although its answer was
 * lost), and post only when SAP has none. One POST per call: a failed POST is a retryable step
 * error, and the retry's look-up decides whether to post again.
 *
 * @param request - client, configuration, hold and reference
 * @returns the posting, or a permanent (the hold has no posting, SAP refused it) or retryable step error
 * @example
 * const posting = await postHoldTransfer({ client, config, hold, reference: postingReference(ctx.idempotencyKey) });
 */
export async function postHoldTransfer(request: HoldTransferRequest): Promise<Result<HoldPosting, HandlerError>> {
  const reference = request.reference;
  const before = await findPosting(request, reference);
  if (before.isErr()) return err(before.error);
  if (before.value !== undefined) return ok(before.value);
  const body = buildHoldTransferPosting(request.hold, request.config, { postingDate: postingDateOf(request.hold), ...(request.unit === undefined ? {} : { unit: request.unit }) });
  if (body.isErr()) return err(permanent(`hold ${request.hold.holdId} has no SAP transfer posting: ${body.error.message}`, body.error));
  const created = await request.client.create(HEADERS, { ...body.value, ReferenceDocument: reference }, { headers: traceHeaders(request.trace) });
  if (created.isErr()) return err(sapStepError(created.error, `posting the transfer of hold ${request.hold.holdId}`));
  const entity = created.value.entity;
  const movements = mapMaterialDocument(entity, request.config);
  return ok({
    materialDocumentYear: String(entity["MaterialDocumentYear"]),
    materialDocument: String(entity["MaterialDocument"]),
    reference,
    alreadyPosted: false,
    movements: booked(movements),
  });
}

/** Where the WMS requests of a workflow go. */
export interface WmsEndpoint {
  /** The WMS's request endpoint, e.g. `https://wms.example.com/requests`. */
  readonly url: string;
  /** Retries inside one attempt of a step (default 0: the step's retry policy retries). */
  readonly retries?: number;
  readonly fetch?: typeof fetch;
}

/**
 * Send a WMS request under a request id (the step's idempotency key, the same on every attempt),
 * so the WMS applies it once however often it arrives.
 *
 * @param request - the request; its `requestId` is replaced by `requestId`
 * @param requestId - the request id to send
 * @param endpoint - where to send it
 * @param trace - the trace it belongs to
 * @returns the request id sent, or the step error
 * @example
 * await sendWithRequestId(stagingRequest, ctx.idempotencyKey, { url }, ctx.trace);
 */
export async function sendWithRequestId(request: WmsRequest, requestId: string, endpoint: WmsEndpoint, trace: TraceCarrier | undefined): Promise<Result<{ readonly requestId: string; readonly status: number }, HandlerError>> {
  const keyed = { ...request, requestId } as WmsRequest;
  const sent = await sendWmsRequest(keyed, {
    url: endpoint.url,
    retries: endpoint.retries ?? 0,
    ...(endpoint.fetch === undefined ? {} : { fetch: endpoint.fetch }),
    ...(trace === undefined ? {} : { context: traceContextOf(trace) }),
  });
  return sent.map((status) => ({ requestId, status })).mapErr((e) => wmsStepError(e, `WMS ${request.type} request ${requestId}`));
}

/**
 * The WMS block (placed hold) or unblock (released hold) request of a hold.
 *
 * @param hold - the hold
 * @returns the request, or a permanent step error when the hold has no stock effect in a WMS
 * @example
 * holdRequestOf(hold).map((r) => r.type); // "block"
 */
export function holdRequestOf(hold: QualityHold): Result<WmsRequest, HandlerError> {
  return toHoldRequest(hold).mapErr((e) => permanent(`hold ${hold.holdId} has no WMS request: ${e.message}`, e));
}

/**
 * The stock type a hold's stock is in, in each system, once the hold change took effect: a placed
 * hold moves the ERP's stock into the held stock type (blocked or quality inspection) and the
 * WMS's into blocked; a released one moves both back to unrestricted.
 *
 * @param hold - a placed or released hold
 * @returns the ERP's and the WMS's target stock type
 * @example
 * targetStockTypes(placedHold); // { erp: "blocked", wms: "blocked" }
 */
export function targetStockTypes(hold: QualityHold): { readonly erp: StockType; readonly wms: StockType } {
  return hold.status === "placed" ? { erp: hold.heldStockType, wms: "blocked" } : { erp: "unrestricted", wms: "unrestricted" };
}
