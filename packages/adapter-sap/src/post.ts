import { preview } from "@millwright/adapter-kit";
import { traceContextOf, type CanonicalEvent } from "@millwright/events";
import type { ProductionConfirmation } from "@millwright/model";
import { context as contextApi, SpanKind, type Context } from "@opentelemetry/api";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { buildConfirmationCreate, confirmationExternalId, type SapBuildError } from "./build.js";
import type { SapClient, SapClientError } from "./client.js";
import type { SapAdapterConfig } from "./config.js";
import type { ODataRecord } from "./odata-envelope.js";
import { inSpan } from "./trace.js";

/** The outcome of posting a confirmation: created now, or found already posted under the same key. */
export interface PostedConfirmation {
  readonly entity: ODataRecord;
  readonly alreadyPosted: boolean;
  readonly externalId: string;
}

/** Why a confirmation could not be posted. */
export type PostConfirmationError = SapBuildError | SapClientError;

/** Which trace a post joins, and how often and how patiently it is retried. */
export interface PostConfirmationOptions {
  /**
   * The confirmation's canonical event: when it carries a `traceparent`, the post is a child of
   * it, so the confirmation joins the order's trace.
   */
  readonly event?: Pick<CanonicalEvent, "traceparent" | "tracestate">;
  /** The parent context when `event` carries no trace context; the active context by default. */
  readonly context?: Context;
  /** POSTs at most per call (default 3); each one after the first follows a look-up that found nothing. */
  readonly maxAttempts?: number;
  /**
   * Milliseconds to wait after a POST whose outcome is unknown (timeout, network error, 5xx, 429,
   * unreadable success) before looking the confirmation up (default 1 000). A confirmation SAP
   * stores must be readable by its key within this time, or a re-post can duplicate it.
   */
  readonly readAfterWriteDelayMs?: number;
}

const ENTITY_SET = "ProdnOrdConf2";
const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_READ_AFTER_WRITE_DELAY_MS = 1_000;
/** Failures after which SAP may or may not have stored the confirmation. */
const UNKNOWN_OUTCOME_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Whether SAP may have stored the post although the call failed; only then is a wait worth it. */
function outcomeUnknown(error: SapClientError): boolean {
  return error.code !== "http_error" || UNKNOWN_OUTCOME_STATUS.has(error.status) || error.status >= 500;
}

/** Whether the failure is worth another POST once a look-up has shown that SAP did not store it. */
function retryable(error: SapClientError): boolean {
  return error.code === "timeout" || error.code === "network_error" || (error.code === "http_error" && UNKNOWN_OUTCOME_STATUS.has(error.status));
}

/**
 * The confirmation SAP holds under `externalId`, if any. A row with another key means the service
 * did not apply the filter: that is an error, never "found", so a confirmation is not taken for
 * posted because some other one exists.
 */
async function findByExternalId(client: SapClient, externalId: string, headers: Readonly<Record<string, string>>): Promise<Result<ODataRecord | undefined, SapClientError>> {
  const filter = `ExternalSystemConfirmation eq guid'${externalId.replace(/'/g, "''")}'`;
  for await (const row of client.list(ENTITY_SET, { filter, top: 1 }, { headers })) {
    if (row.isErr()) return err(row.error);
    const found = row.value["ExternalSystemConfirmation"];
    if (typeof found === "string" && found.toLowerCase() === externalId.toLowerCase()) return ok(row.value);
    return err({
      code: "invalid_response",
      method: "GET",
      path: ENTITY_SET,
      message: `GET ${ENTITY_SET} with $filter ${filter} returned a confirmation with ExternalSystemConfirmation ${preview(found)}: the service did not apply the filter, so nothing is posted`,
    });
  }
  return ok(undefined);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Post a confirmation to `ProdnOrdConf2` exactly once, without relying on SAP to reject a
 * duplicate: the body carries the deterministic `ExternalSystemConfirmation`, and the confirmation
 * is looked up by that key before the first POST of every call (so a relay's new attempt after a
 * crash or a lost response finds it) and again after every POST that failed, before any re-post.
 * A POST is never repeated blindly; when a look-up fails, nothing is posted.
 *
 * Assumed of SAP: a stored confirmation is returned by `$filter=ExternalSystemConfirmation eq
 * guid'…'` once the POST has returned, or within `readAfterWriteDelayMs` after a POST whose
 * outcome the client could not see.
 *
 * Tracing: the post runs in a span `sap.productionconfirmation.post`, a child of the
 * confirmation event's `traceparent` (else of `options.context` or the active context), and
 * every request sends that span as the W3C `traceparent` header.
 *
 * @param client - an OData client of API_PROD_ORDER_CONFIRMATION_2_SRV
 * @param confirmation - the validated canonical confirmation
 * @param config - adapter configuration
 * @param options - the confirmation's event or a context, to join its trace; retry limits
 * @returns the posted entity and whether it already existed, or the build / client error
 * @example
 * ```ts
 * const posted = await postConfirmation(client, event.data, config, { event });
 * ```
 */
export function postConfirmation(
  client: SapClient,
  confirmation: ProductionConfirmation,
  config: SapAdapterConfig,
  options: PostConfirmationOptions = {},
): ResultAsync<PostedConfirmation, PostConfirmationError> {
  const base = options.context ?? contextApi.active();
  const parent = options.event === undefined ? base : traceContextOf(options.event, base);
  const attributes = { "millwright.order.id": confirmation.order.orderId, "millwright.confirmation.id": confirmation.confirmationId };
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const delayMs = options.readAfterWriteDelayMs ?? DEFAULT_READ_AFTER_WRITE_DELAY_MS;
  const run = (): Promise<Result<PostedConfirmation, PostConfirmationError>> =>
    inSpan("sap.productionconfirmation.post", { parent, kind: SpanKind.CLIENT, attributes }, async ({ headers }) => {
      const body = buildConfirmationCreate(confirmation, config);
      if (body.isErr()) return err(body.error);
      const externalId = confirmationExternalId(confirmation, config);
      const found = (entity: ODataRecord): PostedConfirmation => ({ entity, alreadyPosted: true, externalId });
      // This call may repeat an earlier one whose POST reached SAP (a relay's new attempt): look first.
      const before = await findByExternalId(client, externalId, headers);
      if (before.isErr()) return err(before.error);
      if (before.value !== undefined) return ok(found(before.value));
      for (let n = 1; ; n++) {
        // Not `idempotent`: the client must not repeat the POST without the look-up in between.
        const created = await client.create(ENTITY_SET, body.value, { headers });
        if (created.isOk()) return ok({ entity: created.value.entity, alreadyPosted: false, externalId });
        const failure = created.error;
        // No POST was sent: nothing to look up.
        if (failure.code === "credentials_error" || failure.code === "csrf_failed") return err(failure);
        if (outcomeUnknown(failure)) await sleep(delayMs);
        const after = await findByExternalId(client, externalId, headers);
        if (after.isErr()) return err(failure);
        if (after.value !== undefined) return ok(found(after.value));
        if (!retryable(failure) || n >= maxAttempts) return err(failure);
      }
    });
  return new ResultAsync(run());
}
