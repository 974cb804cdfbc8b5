import { err, ok, ResultAsync, type Result } from "neverthrow";
import { unwrapCollection, unwrapEntity, type ODataRecord } from "./odata-envelope.js";

/** Supplies credentials per request, so tokens can rotate; never logged, never put into errors. */
export type CredentialsProvider = () =>
  | Promise<{ readonly kind: "basic"; readonly username: string; readonly password: string } | { readonly kind: "bearer"; readonly token: string }>
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string };

/** One message of SAP's message container (`sap-message` header or OData error details). */
export interface SapMessage {
  readonly code: string;
  readonly message: string;
  readonly severity: string;
  readonly target?: string;
}

/** What went wrong with an OData call. */
export type SapClientError =
  | { readonly code: "http_error"; readonly status: number; readonly method: string; readonly path: string; readonly sapCode?: string; readonly message: string; readonly details: readonly SapMessage[] }
  | { readonly code: "csrf_failed"; readonly method: string; readonly path: string; readonly message: string }
  | { readonly code: "timeout"; readonly method: string; readonly path: string; readonly message: string }
  | { readonly code: "network_error"; readonly method: string; readonly path: string; readonly message: string }
  | { readonly code: "credentials_error"; readonly message: string }
  | { readonly code: "invalid_response"; readonly method: string; readonly path: string; readonly message: string }
  | { readonly code: "response_too_large"; readonly method: string; readonly path: string; readonly maxBytes: number; readonly message: string };

/** A log line of the client; carries no credential, token or cookie. */
export interface SapClientLogEntry {
  readonly level: "debug" | "warn";
  readonly message: string;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly attempt: number;
}

/** Options of the OData client of one service. */
export interface SapClientOptions {
  /** Service root, e.g. `https://host/sap/opu/odata/sap/API_PRODUCTION_ORDER_2_SRV/`. */
  readonly serviceUrl: string;
  readonly credentials?: CredentialsProvider;
  /** Per-attempt timeout in ms (default 30 000). */
  readonly timeoutMs?: number;
  /** Attempts for idempotent calls (default 4). */
  readonly maxAttempts?: number;
  /** First backoff in ms (default 200), doubled per attempt, capped at `maxDelayMs` (default 5 000); `Retry-After` wins. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * Largest response body read, in bytes (default 64 MiB); a larger body ends the read with
   * `response_too_large` as soon as the limit is passed, without buffering the rest. Error bodies
   * are read up to 64 KiB only.
   */
  readonly maxResponseBytes?: number;
  /** Injected for tests; defaults to global fetch. */
  readonly fetch?: typeof globalThis.fetch;
  readonly log?: (entry: SapClientLogEntry) => void;
  /** `sap-client` query parameter, when the system needs one. */
  readonly sapClient?: string;
}

/** Query options of a read. */
export interface SapQuery {
  readonly filter?: string;
  readonly select?: readonly string[];
  readonly expand?: readonly string[];
  readonly top?: number;
  readonly orderBy?: string;
}

/** Per-request options of a read or a create. */
export interface SapRequestOptions {
  /**
   * Further request headers, such as W3C Trace Context `traceparent` and `tracestate`. The
   * client's own headers (authorization, cookie, CSRF token, content negotiation) take precedence.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A created entity and the `sap-message` of the response. */
export interface SapCreated {
  readonly entity: ODataRecord;
  readonly messages: readonly SapMessage[];
}

/** An OData V2 client of one SAP service. */
export interface SapClient {
  /** Read one entity by key predicate (e.g. `'1000123'` or `A='1',B='2'`). Retried on 429/5xx/network errors. */
  getEntity(entitySet: string, key: string, query?: SapQuery, options?: SapRequestOptions): ResultAsync<ODataRecord, SapClientError>;
  /** Read all rows, following `__next` page by page (flat memory); each item is a row or the error that ended the read. */
  list(entitySet: string, query?: SapQuery, options?: SapRequestOptions): AsyncIterable<Result<ODataRecord, SapClientError>>;
  /** Rows changed after a `YYYYMMDDhhmmss` stamp (`LastChangeDateTime gt '…'`, string comparison as in the EDMX). */
  listChangedSince(entitySet: string, since: string, query?: SapQuery): AsyncIterable<Result<ODataRecord, SapClientError>>;
  /**
   * Create an entity (deep insert allowed). Retried on 429/5xx/network errors only when `idempotent`:
   * pass it only when SAP gives a repeated POST of the same body no further effect, which this
   * package does not verify for any SAP API (`postConfirmation` does not rely on it).
   */
  create(entitySet: string, body: unknown, options?: SapRequestOptions & { readonly idempotent?: boolean }): ResultAsync<SapCreated, SapClientError>;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const OWN_HEADERS = new Set(["accept", "authorization", "content-type", "cookie", "x-csrf-token"]);
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Enough for any OData error JSON; the rest of an error body (an HTML page of a proxy, say) is not read. */
const ERROR_BODY_BYTES = 64 * 1024;

/** A response read within its attempt's timeout: status, headers and the (bounded) body text. */
interface Reply {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly text: string;
}

/** Read at most `limit` bytes of a body stream; stops reading (and cancels the stream) beyond it. */
async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<{ readonly text: string; readonly overflow: boolean }> {
  if (body === null) return { text: "", overflow: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - total));
      // Cancelling closes the connection, so the server stops sending what we will not read.
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString("utf8"), overflow: true };
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), overflow: false };
}

/** A URL for a message: scheme, host and path only (never user info or query), at most 160 characters. */
function showUrl(url: URL): string {
  const text = `${url.protocol}//${url.host}${url.pathname}`;
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** A caller's extra headers, without any the client sets itself (names compared case-insensitively). */
function extraHeaders(headers: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  if (headers === undefined) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!OWN_HEADERS.has(name.toLowerCase())) out[name] = value;
  return out;
}

function queryString(query: SapQuery | undefined, sapClient: string | undefined): string {
  const params: string[] = [];
  if (query?.filter !== undefined) params.push(`$filter=${encodeURIComponent(query.filter)}`);
  if (query?.select !== undefined && query.select.length > 0) params.push(`$select=${query.select.map(encodeURIComponent).join(",")}`);
  if (query?.expand !== undefined && query.expand.length > 0) params.push(`$expand=${query.expand.map(encodeURIComponent).join(",")}`);
  if (query?.orderBy !== undefined) params.push(`$orderby=${encodeURIComponent(query.orderBy)}`);
  if (query?.top !== undefined) params.push(`$top=${query.top}`);
  if (sapClient !== undefined) params.push(`sap-client=${encodeURIComponent(sapClient)}`);
  params.push("$format=json");
  return `?${params.join("&")}`;
}

function parseMessages(value: unknown): SapMessage[] {
  if (typeof value !== "object" || value === null) return [];
  const v = value as Record<string, unknown>;
  const own: SapMessage[] = typeof v["message"] === "string"
    ? [{ code: String(v["code"] ?? ""), message: v["message"], severity: String(v["severity"] ?? ""), ...(typeof v["target"] === "string" && v["target"] !== "" ? { target: v["target"] } : {}) }]
    : [];
  const details = Array.isArray(v["details"]) ? v["details"].flatMap(parseMessages) : [];
  return [...own, ...details];
}

/** Read the `sap-message` header (JSON message container). */
function sapMessages(headers: Headers): SapMessage[] {
  const raw = headers.get("sap-message");
  if (raw === null) return [];
  try {
    return parseMessages(JSON.parse(raw));
  } catch {
    return [{ code: "", message: raw.slice(0, 500), severity: "" }];
  }
}

/** OData V2 error JSON → status, code, message and details. */
function httpError(response: Reply, method: string, path: string): SapClientError {
  const text = response.text;
  let sapCode: string | undefined;
  let message = `${method} ${path} failed with HTTP ${response.status}${response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : ""}`;
  const details: SapMessage[] = [];
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: { value?: unknown }; innererror?: { errordetails?: unknown } } };
    if (body.error !== undefined) {
      if (typeof body.error.code === "string") sapCode = body.error.code;
      if (typeof body.error.message?.value === "string") message = `${message}: ${body.error.message.value.slice(0, 500)}`;
      const list = body.error.innererror?.errordetails;
      if (Array.isArray(list)) for (const d of list) details.push(...parseMessages(d));
    }
  } catch {
    // Not OData JSON (an HTML error page of a proxy, for example): keep the status only.
  }
  details.push(...sapMessages(response.headers));
  return { code: "http_error", status: response.status, method, path, ...(sapCode === undefined ? {} : { sapCode }), message, details };
}

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname;
  } catch {
    return "";
  }
}

/**
 * Create a fetch-based OData V2 client for one SAP service: CSRF token and session cookies, one token
 * refetch on `403 x-csrf-token: Required`, retries with backoff on 429/5xx/network errors for idempotent
 * calls only, per-attempt timeouts (headers and body), paging via `__next`, basic or bearer auth from a
 * credentials provider, OData errors and `sap-message` as typed errors. Credentials never reach a log
 * line or an error, and no request leaves the service: `__next` links are followed only on the
 * service's origin and under its root, redirects are not followed, cookies go back only to the origin
 * that set them, and response bodies are read up to `maxResponseBytes`.
 *
 * @param options - service URL, credentials, timeouts, retry policy and response size limit
 * @returns the client
 * @example
 * ```ts
 * const client = createSapClient({ serviceUrl, credentials: () => ({ kind: "basic", username, password }) });
 * for await (const row of client.list("A_ProductionOrder_2", { expand: ["to_ProductionOrderOperation"] })) { … }
 * ```
 */
export function createSapClient(options: SapClientOptions): SapClient {
  const base = options.serviceUrl.endsWith("/") ? options.serviceUrl : `${options.serviceUrl}/`;
  const root = parseUrl(base);
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelay = options.baseDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // Cookies per origin that set them: name → value, and whether it may travel over http.
  const cookies = new Map<string, Map<string, { readonly value: string; readonly secure: boolean }>>();
  let csrfToken: string | undefined;
  const log = (entry: SapClientLogEntry) => options.log?.(entry);

  /** Whether a URL is on the service's origin and under its root; the only URLs that get credentials. */
  const withinService = (url: URL) =>
    root !== undefined && url.origin === root.origin && url.username === "" && url.password === "" && url.pathname.startsWith(root.pathname);
  const rootShown = root === undefined ? "(serviceUrl is not an absolute URL)" : showUrl(root);

  const authHeader = async (): Promise<Result<Record<string, string>, SapClientError>> => {
    if (options.credentials === undefined) return ok({});
    try {
      const c = await options.credentials();
      return ok({ authorization: c.kind === "basic" ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` : `Bearer ${c.token}` });
    } catch {
      return err({ code: "credentials_error", message: "the credentials provider failed" });
    }
  };

  const storeCookies = (url: URL, headers: Headers) => {
    for (const line of headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const names = attributes.map((a) => a.trim().toLowerCase());
      const jar = cookies.get(url.origin) ?? new Map<string, { value: string; secure: boolean }>();
      cookies.set(url.origin, jar);
      // `Max-Age=0` (or negative) is how a server deletes a cookie.
      if (names.some((a) => /^max-age=\s*(-\d+|0+)$/.test(a))) jar.delete(name);
      else jar.set(name, { value: pair.slice(eq + 1).trim(), secure: names.includes("secure") });
    }
  };

  const cookieHeader = (url: URL): Record<string, string> => {
    const jar = [...(cookies.get(url.origin) ?? [])].filter(([, c]) => !c.secure || url.protocol === "https:");
    return jar.length === 0 ? {} : { cookie: jar.map(([k, c]) => `${k}=${c.value}`).join("; ") };
  };

  /**
   * One HTTP attempt, body included, within the timeout; network failures, timeouts and bodies over
   * the limit become errors, never throws. Only URLs of the service are requested.
   */
  const attempt = async (method: string, url: string, headers: Readonly<Record<string, string>>, body?: string): Promise<Result<Reply, SapClientError>> => {
    const path = pathOf(url);
    const target = parseUrl(url);
    if (target === undefined) return err({ code: "network_error", method, path, message: `${method} request not sent: serviceUrl is not an absolute URL` });
    if (!withinService(target)) {
      return err({ code: "invalid_response", method, path, message: `${method} ${showUrl(target)} is outside the service root ${rootShown}; not requested` });
    }
    const auth = await authHeader();
    if (auth.isErr()) return err(auth.error);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await doFetch(url, {
        method,
        headers: { ...headers, accept: "application/json", ...auth.value, ...cookieHeader(target), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body }),
        signal: controller.signal,
        // A redirect would carry the credentials to wherever it points: report it instead.
        redirect: "manual",
      });
      storeCookies(target, response.headers);
      const tooLarge = (): Result<Reply, SapClientError> =>
        err({ code: "response_too_large", method, path, maxBytes: maxResponseBytes, message: `${method} ${path}: the response body exceeds maxResponseBytes (${maxResponseBytes} bytes)` });
      const declared = Number(response.headers.get("content-length") ?? "");
      if (response.ok && method !== "HEAD" && Number.isFinite(declared) && declared > maxResponseBytes) {
        await response.body?.cancel().catch(() => undefined);
        return tooLarge();
      }
      const read = await readBounded(method === "HEAD" ? null : response.body, response.ok ? maxResponseBytes : ERROR_BODY_BYTES);
      if (read.overflow && response.ok) return tooLarge();
      return ok({ status: response.status, ok: response.ok, headers: response.headers, text: read.text });
    } catch (cause) {
      if (controller.signal.aborted) return err({ code: "timeout", method, path, message: `${method} ${path} timed out after ${timeoutMs} ms` });
      const name = cause instanceof Error ? cause.name : "Error";
      return err({ code: "network_error", method, path, message: `${method} ${path} failed: network error (${name})` });
    } finally {
      clearTimeout(timer);
    }
  };

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const delayFor = (n: number, response?: Reply) => {
    const retryAfter = response?.headers.get("retry-after");
    if (retryAfter !== null && retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Math.min(Number(retryAfter) * 1000, maxDelay);
    return Math.min(baseDelay * 2 ** (n - 1), maxDelay);
  };

  /** Send with retries when idempotent; gives the final response (any status) or the last transport error. */
  const send = async (method: string, url: string, headers: Readonly<Record<string, string>>, body: string | undefined, idempotent: boolean): Promise<Result<Reply, SapClientError>> => {
    const path = pathOf(url);
    const attempts = idempotent ? maxAttempts : 1;
    let last: Result<Reply, SapClientError> | undefined;
    for (let n = 1; n <= attempts; n++) {
      last = await attempt(method, url, headers, body);
      const retryable = last.isErr() ? last.error.code === "timeout" || last.error.code === "network_error" : RETRY_STATUS.has(last.value.status);
      if (!retryable || n === attempts) break;
      const response = last.isOk() ? last.value : undefined;
      log({ level: "warn", message: `retrying after ${response === undefined ? (last.isErr() ? last.error.code : "") : `HTTP ${response.status}`}`, method, path, ...(response === undefined ? {} : { status: response.status }), attempt: n });
      await sleep(delayFor(n, response));
    }
    return last as Result<Reply, SapClientError>;
  };

  const readJson = (response: Reply, method: string, path: string): Result<unknown, SapClientError> => {
    try {
      return ok(JSON.parse(response.text) as unknown);
    } catch {
      return err({ code: "invalid_response", method, path, message: `${method} ${path}: the response is not JSON` });
    }
  };

  const getJson = async (url: string, headers: Readonly<Record<string, string>> = {}): Promise<Result<unknown, SapClientError>> => {
    const path = pathOf(url);
    const response = await send("GET", url, headers, undefined, true);
    if (response.isErr()) return err(response.error);
    log({ level: "debug", message: "read", method: "GET", path, status: response.value.status, attempt: 1 });
    if (!response.value.ok) return err(httpError(response.value, "GET", path));
    return readJson(response.value, "GET", path);
  };

  const fetchToken = async (): Promise<Result<string, SapClientError>> => {
    const url = `${base}${options.sapClient === undefined ? "" : `?sap-client=${encodeURIComponent(options.sapClient)}`}`;
    const response = await send("HEAD", url, { "x-csrf-token": "Fetch" }, undefined, true);
    if (response.isErr()) return err(response.error);
    const token = response.value.headers.get("x-csrf-token");
    if (!response.value.ok || token === null || token === "" || token.toLowerCase() === "required") {
      return err({ code: "csrf_failed", method: "HEAD", path: pathOf(url), message: `CSRF token fetch failed with HTTP ${response.value.status}` });
    }
    csrfToken = token;
    return ok(token);
  };

  const pages = async function* (first: string, headers: Readonly<Record<string, string>> = {}): AsyncGenerator<Result<ODataRecord, SapClientError>> {
    let url: string | undefined = first;
    while (url !== undefined) {
      const body = await getJson(url, headers);
      if (body.isErr()) {
        yield err(body.error);
        return;
      }
      const page = unwrapCollection(body.value);
      if (page.isErr()) {
        yield err({ code: "invalid_response", method: "GET", path: pathOf(url), message: `GET ${pathOf(url)}: ${page.error.message}` });
        return;
      }
      for (const row of page.value.results) yield ok(row);
      const next = page.value.next;
      if (next === undefined) return;
      let link: URL | undefined;
      try {
        link = new URL(next, base);
      } catch {
        link = undefined;
      }
      if (link === undefined || !withinService(link)) {
        // The link would take the credentials and the session cookie to wherever the server points.
        const shown = link === undefined ? "an invalid URL" : showUrl(link);
        yield err({ code: "invalid_response", method: "GET", path: pathOf(url), message: `GET ${pathOf(url)}: the __next link (${shown}) leads outside the service root ${rootShown}; not followed` });
        return;
      }
      url = link.toString();
    }
  };

  return {
    getEntity(entitySet, key, query, requestOptions) {
      const url = `${base}${entitySet}(${key})${queryString(query, options.sapClient)}`;
      return new ResultAsync(
        getJson(url, extraHeaders(requestOptions?.headers)).then((r) =>
          r.andThen((body) => unwrapEntity(body).mapErr((issue): SapClientError => ({ code: "invalid_response", method: "GET", path: pathOf(url), message: issue.message }))),
        ),
      );
    },
    list(entitySet, query, requestOptions) {
      return pages(`${base}${entitySet}${queryString(query, options.sapClient)}`, extraHeaders(requestOptions?.headers));
    },
    listChangedSince(entitySet, since, query) {
      const delta = `LastChangeDateTime gt '${since.replace(/'/g, "''")}'`;
      return pages(`${base}${entitySet}${queryString({ ...query, filter: query?.filter === undefined ? delta : `${query.filter} and ${delta}` }, options.sapClient)}`);
    },
    create(entitySet, body, createOptions) {
      const url = `${base}${entitySet}${options.sapClient === undefined ? "" : `?sap-client=${encodeURIComponent(options.sapClient)}`}`;
      const path = pathOf(url);
      const text = JSON.stringify(body);
      const run = async (): Promise<Result<SapCreated, SapClientError>> => {
        let refetched = false;
        if (csrfToken === undefined) {
          const t = await fetchToken();
          if (t.isErr()) return err(t.error);
        }
        for (;;) {
          const response = await send("POST", url, { ...extraHeaders(createOptions?.headers), "x-csrf-token": csrfToken ?? "" }, text, createOptions?.idempotent === true);
          if (response.isErr()) return err(response.error);
          const res = response.value;
          if (res.status === 403 && res.headers.get("x-csrf-token")?.toLowerCase() === "required" && !refetched) {
            refetched = true;
            log({ level: "warn", message: "CSRF token expired, fetching a new one", method: "POST", path, status: 403, attempt: 1 });
            const t = await fetchToken();
            if (t.isErr()) return err(t.error);
            continue;
          }
          if (!res.ok) return err(httpError(res, "POST", path));
          const messages = sapMessages(res.headers);
          return readJson(res, "POST", path).andThen((b) =>
            unwrapEntity(b)
              .map((entity) => ({ entity, messages }))
              .mapErr((issue): SapClientError => ({ code: "invalid_response", method: "POST", path, message: issue.message })),
          );
        }
      };
      return new ResultAsync(run());
    },
  };
}
