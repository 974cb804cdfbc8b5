import type { ProductionConfirmation } from "@millwright/model";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { buildConfirmationCreate, confirmationExternalId, type SapBuildError } from "./build.js";
import type { SapClient, SapClientError } from "./client.js";
import type { SapAdapterConfig } from "./config.js";
import type { ODataRecord } from "./wire.js";

/** The outcome of posting a confirmation: created now, or found already posted under the same key. */
export interface PostedConfirmation {
  readonly entity: ODataRecord;
  readonly alreadyPosted: boolean;
  readonly externalId: string;
}

/** Why a confirmation could not be posted. */
export type PostConfirmationError = SapBuildError | SapClientError;

async function findByExternalId(client: SapClient, externalId: string): Promise<Result<ODataRecord | undefined, SapClientError>> {
  for await (const row of client.list("ProdnOrdConf2", { filter: `ExternalSystemConfirmation eq guid'${externalId}'`, top: 1 })) {
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
 * @param client - an OData client of API_PROD_ORDER_CONFIRMATION_2_SRV
 * @param confirmation - the validated canonical confirmation
 * @param config - adapter configuration
 * @returns the posted entity and whether it already existed, or the build / client error
 * @example
 * ```ts
 * const posted = await postConfirmation(client, confirmation, config);
 * ```
 */
export function postConfirmation(
  client: SapClient,
  confirmation: ProductionConfirmation,
  config: SapAdapterConfig,
): ResultAsync<PostedConfirmation, PostConfirmationError> {
  const run = async (): Promise<Result<PostedConfirmation, PostConfirmationError>> => {
    const body = buildConfirmationCreate(confirmation, config);
    if (body.isErr()) return err(body.error);
    const externalId = confirmationExternalId(confirmation, config);
    const created = await client.create("ProdnOrdConf2", body.value, { idempotent: true });
    if (created.isOk()) return ok({ entity: created.value.entity, alreadyPosted: false, externalId });
    if (created.error.code === "credentials_error" || created.error.code === "csrf_failed") return err(created.error);
    const existing = await findByExternalId(client, externalId);
    if (existing.isOk() && existing.value !== undefined) return ok({ entity: existing.value, alreadyPosted: true, externalId });
    return err(created.error);
  };
  return new ResultAsync(run());
}
