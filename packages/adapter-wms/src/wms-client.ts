// Sending outbound requests (staging, block, unblock) to a WMS over HTTP, with retries.
import { ResultAsync, errAsync, okAsync } from "neverthrow";
import { parseWmsRequest, type WmsContractError, type WmsRequest } from "./wms-contract.js";

/** Why a request was not accepted. */
export type WmsClientError =
  | WmsContractError
  | { readonly code: "rejected"; readonly status: number; readonly message: string; readonly body: string }
  | { readonly code: "unavailable"; readonly attempts: number; readonly message: string; readonly status?: number };

/** Options of {@link sendWmsRequest}. */
export interface SendWmsRequestOptions {
  /** The endpoint, e.g. `https://wms.example.com/requests`. */
  readonly url: string;
  /** Retries after a 5xx answer or a network error; 3 by default. The request id makes retries safe. */
  readonly retries?: number;
  /** Milliseconds to wait before retry n (1-based); 200·n by default. */
  readonly delay?: (attempt: number) => number;
  /** The fetch to use; the global one by default. */
  readonly fetch?: typeof fetch;
}

/**
 * Validates an outbound request against the contract and POSTs it as JSON, retrying on 5xx and
 * network errors. The WMS answers 2xx when it accepted the request (or had already, by its id).
 *
 * @param request - a staging, block or unblock request
 * @param options - endpoint, retries, delay and fetch
 * @returns the HTTP status of the accepting answer, or why the request was not accepted
 * @example
 * await sendWmsRequest(request, { url: `${wmsUrl}/requests` });
 */
export function sendWmsRequest(request: WmsRequest, options: SendWmsRequestOptions): ResultAsync<number, WmsClientError> {
  const checked = parseWmsRequest(request);
  if (checked.isErr()) return errAsync(checked.error);
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 3;
  const delay = options.delay ?? ((n: number) => 200 * n);
  const body = JSON.stringify(request);
  const attempt = (n: number): ResultAsync<number, WmsClientError> =>
    ResultAsync.fromPromise(
      doFetch(options.url, { method: "POST", headers: { "content-type": "application/json" }, body }).then(async (r) => ({ status: r.status, text: await r.text() })),
      (cause): WmsClientError => ({ code: "unavailable", attempts: n, message: `POST ${options.url} failed: ${(cause as Error).message}` }),
    )
      .andThen(({ status, text }) => {
        if (status >= 200 && status < 300) return okAsync(status);
        if (status < 500) return errAsync<number, WmsClientError>({ code: "rejected", status, message: `POST ${options.url} answered ${status}`, body: text });
        return errAsync<number, WmsClientError>({ code: "unavailable", attempts: n, status, message: `POST ${options.url} answered ${status}` });
      })
      .orElse((error) => {
        if (error.code !== "unavailable" || n > retries) return errAsync(error);
        return ResultAsync.fromSafePromise(new Promise<void>((resolve) => setTimeout(resolve, delay(n)))).andThen(() => attempt(n + 1));
      });
  return attempt(1);
}
