// Sending outbound requests (staging, block, unblock) to a WMS over HTTP, with retries.
import { toTraceHeaders } from "@millwright/events";
import { context as contextApi, SpanKind, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { ResultAsync, errAsync, okAsync } from "neverthrow";
import packageJson from "../package.json" with { type: "json" };
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
  /**
   * The trace the request belongs to (for example `traceContextOf(releasedEvent)`); the active
   * context by default. The request is sent in a span `wms.request.send`, a child of it, and
   * every attempt carries that span as the W3C `traceparent` header.
   */
  readonly context?: Context;
}

/**
 * Validates an outbound request against the contract and POSTs it as JSON, retrying on 5xx and
 * network errors. The WMS answers 2xx when it accepted the request (or had already, by its id).
 *
 * @param request - a staging, block or unblock request
 * @param options - endpoint, retries, delay, fetch and the trace context to continue
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
  const parent = options.context ?? contextApi.active();
  const span = trace.getTracer("@millwright/adapter-wms", packageJson.version).startSpan(
    "wms.request.send",
    { kind: SpanKind.CLIENT, attributes: { "millwright.wms.request.id": request.requestId, "millwright.wms.request.type": request.type } },
    parent,
  );
  // The span is active during each request, so an HTTP client instrumentation nests under it.
  const inSpan = trace.setSpan(parent, span);
  const headers = { ...toTraceHeaders(span.spanContext()), "content-type": "application/json" };
  const attempt = (n: number): ResultAsync<number, WmsClientError> =>
    ResultAsync.fromPromise(
      contextApi.with(inSpan, () => doFetch(options.url, { method: "POST", headers, body })).then(async (r) => ({ status: r.status, text: await r.text() })),
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
  return attempt(1)
    .map((status) => {
      span.end();
      return status;
    })
    .mapErr((error) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span.end();
      return error;
    });
}
