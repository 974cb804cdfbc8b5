import { traceContextOf, type CanonicalEvent } from "@millwright/events";
import type { ProductionConfirmation } from "@millwright/model";
import { context as contextApi, SpanKind, type Context } from "@opentelemetry/api";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { buildConfirmationCreate, confirmationExternalId, type SapBuildError } from "./build.js";
import type { SapClient, SapClientError } from "./client.js";
import type { SapAdapterConfig } from "./config.js";
import { inSpan } from "./trace.js";
import type { ODataRecord } from "./wire.js";

/** The outcome of posting a confirmation: created now, or found already posted under the same key. */
export interface PostedConfirmation {
  readonly entity: ODataRecord;
  readonly alreadyPosted: boolean;
  readonly externalId: string;
}

/** Why a confirmation could not be posted. */
export type PostConfirmationError = SapBuildError | SapClientError;

/** Which trace a post joins. */
export interface PostConfirmationOptions {
  /**
   * The confirmation's canonical event: when it carries a `traceparent`, the post is a child of
   * it, so the confirmation joins the order's trace.
   */
  readonly event?: Pick<CanonicalEvent, "traceparent" | "tracestate">;
  /** The parent context when `event` carries no trace context; the active context by default. */
  readonly context?: Context;
}

async function findByExternalId(client: SapClient, externalId: string, headers: Readonly<Record<string, string>>): Promise<Result<ODataRecord | undefined, SapClientError>> {
  for await (const row of client.list("ProdnOrdConf2", { filter: `ExternalSystemConfirmation eq guid'${externalId}'`, top: 1 }, { headers })) {
    return row.map((r) => r);
  }
  return ok(undefined);
}

/**
 * Post a confirmation to `ProdnOrdConf2` exactly once: the body carries the deterministic
 * `ExternalSystemConfirmation`, the create is retried as idempotent, and when the create fails (a
 * lost response, or SAP rejecting a duplicate) the confirmation is looked up by that key before
 * an error is returned.
 *
 * Tracing: the post runs in a span `sap.productionconfirmation.post`, a child of the
 * confirmation event's `traceparent` (else of `options.context` or the active context), and
 * every request sends that span as the W3C `traceparent` header.
 *
 * @param client - an OData client of API_PROD_ORDER_CONFIRMATION_2_SRV
 * @param confirmation - the validated canonical confirmation
 * @param config - adapter configuration
 * @param options - the confirmation's event or a context, to join its trace
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
  const run = (): Promise<Result<PostedConfirmation, PostConfirmationError>> =>
    inSpan("sap.productionconfirmation.post", { parent, kind: SpanKind.CLIENT, attributes }, async ({ headers }) => {
      const body = buildConfirmationCreate(confirmation, config);
      if (body.isErr()) return err(body.error);
      const externalId = confirmationExternalId(confirmation, config);
      const created = await client.create("ProdnOrdConf2", body.value, { idempotent: true, headers });
      if (created.isOk()) return ok({ entity: created.value.entity, alreadyPosted: false, externalId });
      if (created.error.code === "credentials_error" || created.error.code === "csrf_failed") return err(created.error);
      const existing = await findByExternalId(client, externalId, headers);
      if (existing.isOk() && existing.value !== undefined) return ok({ entity: existing.value, alreadyPosted: true, externalId });
      return err(created.error);
    });
  return new ResultAsync(run());
}
