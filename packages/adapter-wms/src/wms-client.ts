// Sending outbound requests (staging, block, unblock) to a WMS over HTTP, with retries.
import { boundedText, preview } from "@millwright/adapter-kit";
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
  /**
   * Follow a 307 or 308 redirect to the same origin (scheme, host and port), at most 5 in a row.
   * Default false: a redirect is answered as `rejected`, so the request and its headers only ever
   * go to `url`. A redirect to another origin is `rejected` either way.
   */
  readonly followSameOriginRedirects?: boolean;
}

const MAX_REDIRECTS = 5;

/**
 * POSTs with redirects handled here rather than by fetch, which would send the body and headers
 * on to wherever a Location points: the answer, or the redirect that was not followed.
 */
async function postOnce(
  doFetch: typeof fetch,
  request: { readonly url: string; readonly headers: Record<string, string>; readonly body: string; readonly followSameOrigin: boolean },
): Promise<{ status: number; text: string; refused?: string }> {
  let target = new URL(request.url);
  for (let hop = 0; ; hop++) {
    const r = await doFetch(hop === 0 ? request.url : target.href, { method: "POST", headers: request.headers, body: request.body, redirect: "manual" });
    if (r.status < 300 || r.status > 399) return { status: r.status, text: await r.text() };
    await r.body?.cancel().catch(() => undefined);
    const location = r.headers.get("location");
    let next: URL | undefined;
    try {
      next = location === null ? undefined : new URL(location, target);
    } catch {
      next = undefined;
    }
    const shown = location === null ? "no Location" : `Location ${preview(location, 120)}`;
    const refuse = (why: string): { status: number; text: string; refused: string } => ({ status: r.status, text: "", refused: `POST ${request.url} answered ${r.status} (${shown}); ${why}` });
    if (!request.followSameOrigin) return refuse("redirects are not followed unless followSameOriginRedirects is set");
    if (next === undefined || next.origin !== target.origin) return refuse("a redirect to another origin is never followed");
    if (r.status !== 307 && r.status !== 308) return refuse("only 307 and 308 keep the method and body, so only they are followed");
    if (hop + 1 >= MAX_REDIRECTS) return refuse(`more than ${MAX_REDIRECTS} redirects in a row`);
    target = next;
  }
}

/**
 * Validates an outbound request against the contract and POSTs it as JSON, retrying on 5xx and
 * network errors. The WMS answers 2xx when it accepted the request (or had already, by its id).
 * A redirect is `rejected`, not followed (unless it is a 307/308 to the same origin and
 * `followSameOriginRedirects` is set), so the request never leaves for another host. The WMS's
 * answer appears in errors cut to 1,000 characters.
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
      contextApi.with(inSpan, () => postOnce(doFetch, { url: options.url, headers, body, followSameOrigin: options.followSameOriginRedirects === true })),
      (cause): WmsClientError => ({ code: "unavailable", attempts: n, message: `POST ${options.url} failed: ${(cause as Error).message}` }),
    )
      .andThen(({ status, text, refused }) => {
        if (refused !== undefined) return errAsync<number, WmsClientError>({ code: "rejected", status, message: refused, body: "" });
        if (status >= 200 && status < 300) return okAsync(status);
        if (status < 500) return errAsync<number, WmsClientError>({ code: "rejected", status, message: `POST ${options.url} answered ${status}`, body: boundedText(text, 1000) });
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
