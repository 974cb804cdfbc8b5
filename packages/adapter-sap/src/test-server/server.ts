import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseEdmx, type EdmxEntityType, type EdmxModel } from "../edmx.js";
import { checkAgainstEdmx } from "../edmx-check.js";
import { callFunctionImport } from "./function-imports.js";

/** One OData V2 service the test system serves, from its EDMX. */
export interface TestServiceDefinition {
  /** Technical service name, e.g. `API_PROD_ORDER_CONFIRMATION_2_SRV`; served under `/sap/opu/odata/sap/<name>/`. */
  readonly name: string;
  /** The service's `$metadata` document (EDMX XML). */
  readonly edmx: string;
}

/** A fault the server injects into matching requests. */
export interface TestFault {
  /**
   * `status`: answer with the status (and OData error JSON) without processing the request;
   * `timeout`: never answer; `drop-response`: process the request, then fail with 500 (the client
   * sees an error although the post was stored); `drop-connection`: process the request, then close
   * the connection without an answer (the client sees a network error although the post was stored).
   */
  readonly kind: "status" | "timeout" | "drop-response" | "drop-connection";
  readonly status?: number;
  /** Seconds for `Retry-After` on 429/503. */
  readonly retryAfter?: number;
  /** Only requests with this method. */
  readonly method?: string;
  /** Only requests whose path contains this text. */
  readonly pathIncludes?: string;
  /** How many matching requests get the fault (default 1). */
  readonly times?: number;
}

/** A fault the server injected: which one, into which request. */
export interface AppliedFault {
  readonly kind: TestFault["kind"];
  readonly method: string;
  readonly path: string;
}

/** A create or function import request the server accepted or rejected. */
export interface RecordedPost {
  readonly service: string;
  /** The entity set created in, or the entity set a function import returns. */
  readonly entitySet: string;
  /** For a function import call (`Cancel`, `CancelProdnOrdConf` …): its name; `body` then holds its parameters. */
  readonly functionImport?: string;
  readonly body: unknown;
  readonly status: number;
  /** The W3C Trace Context headers of the request, when it sent them. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/** Options of the test SAP system. */
export interface TestSapServerOptions {
  readonly services: readonly TestServiceDefinition[];
  /** Rows per page before the server sends `__next` (Gateway server paging). Default 1000. */
  readonly pageSize?: number;
  /** Basic credentials or a bearer token the server requires; absent = no authentication. */
  readonly auth?: { readonly username: string; readonly password: string } | { readonly token: string };
  /** Per entity set, the property that must be unique on create (default `ProdnOrdConf2` → `ExternalSystemConfirmation`). */
  readonly uniqueOnCreate?: Readonly<Record<string, string>>;
  /**
   * What a second `ProdnOrdConf2` create with an `ExternalSystemConfirmation` already stored gets:
   * `"reject"` (default) answers 400, `"accept"` stores it again. Whether S/4HANA rejects such a
   * duplicate is not established, so exactly-once tests run with `"accept"`.
   */
  readonly duplicateExternalConfirmation?: "reject" | "accept";
}

/** Rows of one entity set: an array, or a generator with a row count (flat memory for large reads). */
export type TestRows = readonly Record<string, unknown>[] | { readonly count: number; readonly row: (index: number) => Record<string, unknown> };

/** A running test SAP system. */
export interface TestSapServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Service root URL of a service, ending in `/`. */
  serviceUrl(name: string): string;
  /** Set the rows of an entity set (navigations may be inline; they are served only when `$expand`ed). */
  seed(service: string, entitySet: string, rows: TestRows): void;
  /** Rows stored in an entity set (seeded and created). */
  rows(service: string, entitySet: string): readonly Record<string, unknown>[];
  /** Every create request received, in order. */
  readonly posts: readonly RecordedPost[];
  /** Add a fault for the next matching requests. */
  inject(fault: TestFault): void;
  /** Every fault injected so far, in order, so a test can assert that its fault happened. */
  readonly faultsApplied: readonly AppliedFault[];
  /** Forget every session and CSRF token (as after a Gateway session timeout). */
  expireSessions(): void;
  /** Number of requests received, by method. */
  readonly requestCount: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

interface Service {
  readonly name: string;
  readonly model: EdmxModel;
  readonly edmx: string;
  readonly data: Map<string, TestRows>;
}

const ROOT = "/sap/opu/odata/sap/";

function odataError(res: ServerResponse, status: number, code: string, message: string, details: readonly { code: string; message: string; target?: string }[] = [], headers: Record<string, string> = {}): void {
  const body = {
    error: {
      code,
      message: { lang: "en", value: message },
      innererror: {
        application: { component_id: "", service_namespace: "/SAP/", service_id: "", service_version: "0001" },
        transactionid: "0123456789ABCDEF0123456789ABCDEF",
        timestamp: "20260302061240.0000000",
        errordetails: details.map((d) => ({ code: d.code, message: d.message, propertyref: "", severity: "error", target: d.target ?? "" })),
      },
    },
  };
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", dataserviceversion: "2.0", ...headers });
  res.end(JSON.stringify(body));
}

function rowCount(rows: TestRows): number {
  return Array.isArray(rows) ? rows.length : (rows as { count: number }).count;
}

function rowAt(rows: TestRows, i: number): Record<string, unknown> | undefined {
  return Array.isArray(rows) ? (rows as Record<string, unknown>[])[i] : i < (rows as { count: number }).count ? (rows as { row: (i: number) => Record<string, unknown> }).row(i) : undefined;
}

type Filter = (row: Record<string, unknown>) => boolean;

/** The small `$filter` subset Millwright uses: `Prop op 'value'` joined by `and`; op in eq ne gt ge lt le. */
function parseFilter(text: string | null): Filter | undefined | "invalid" {
  if (text === null || text.trim() === "") return undefined;
  const parts = text.split(/\s+and\s+/i);
  const tests: Filter[] = [];
  for (const part of parts) {
    const m = /^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(?:(?:guid|datetime)?'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(true|false))\s*$/i.exec(part);
    if (m === null) return "invalid";
    const [, prop = "", op = "", str, num, bool] = m;
    const value: unknown = str !== undefined ? str.replace(/''/g, "'") : num !== undefined ? num : bool === "true";
    tests.push((row) => {
      const v = row[prop];
      const a = typeof v === "number" ? String(v) : v;
      switch (op.toLowerCase()) {
        case "eq": return a === value;
        case "ne": return a !== value;
        case "gt": return typeof a === "string" && typeof value === "string" && a > value;
        case "ge": return typeof a === "string" && typeof value === "string" && a >= value;
        case "lt": return typeof a === "string" && typeof value === "string" && a < value;
        default: return typeof a === "string" && typeof value === "string" && a <= value;
      }
    });
  }
  return (row) => tests.every((t) => t(row));
}

function parseKey(text: string, type: EdmxEntityType): Record<string, string> | undefined {
  const single = /^'((?:[^']|'')*)'$/.exec(text);
  if (single !== null && type.keys.length === 1) return { [type.keys[0] as string]: (single[1] ?? "").replace(/''/g, "'") };
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const m = /^(\w+)='((?:[^']|'')*)'$/.exec(part.trim());
    if (m === null) return undefined;
    out[m[1] as string] = (m[2] ?? "").replace(/''/g, "'");
  }
  return type.keys.every((k) => k in out) ? out : undefined;
}

function keyPredicate(type: EdmxEntityType, row: Record<string, unknown>): string {
  return type.keys.map((k) => `${k}='${String(row[k] ?? "").replace(/'/g, "''")}'`).join(",");
}

/**
 * Start a local SAP Gateway look-alike on 127.0.0.1 (ephemeral port), driven by the services' EDMX:
 * OData V2 JSON with `d`/`results`/`__next` paging, `$filter`/`$select`/`$expand`/`$top`/`$skip`,
 * CSRF token + session cookie (403 `x-csrf-token: Required` otherwise), creates checked against the
 * metadata (unknown properties, types, lengths → 400 OData error JSON), recorded posts and fault injection.
 *
 * @param options - the services and behaviour
 * @returns the running server
 * @example
 * ```ts
 * const sap = await startTestSapServer({ services: [{ name: "API_PROD_ORDER_CONFIRMATION_2_SRV", edmx }] });
 * // … run the client against sap.serviceUrl("API_PROD_ORDER_CONFIRMATION_2_SRV")
 * await sap.close();
 * ```
 */
export async function startTestSapServer(options: TestSapServerOptions): Promise<TestSapServer> {
  const services = new Map<string, Service>();
  for (const def of options.services) {
    const model = parseEdmx(def.edmx);
    if (model.isErr()) throw new Error(`test SAP server: ${def.name}: ${model.error.message}`);
    services.set(def.name, { name: def.name, model: model.value, edmx: def.edmx, data: new Map() });
  }
  const pageSize = options.pageSize ?? 1000;
  const unique: Record<string, string> = { ...(options.uniqueOnCreate ?? { ProdnOrdConf2: "ExternalSystemConfirmation" }) };
  if (options.duplicateExternalConfirmation === "accept" && unique["ProdnOrdConf2"] === "ExternalSystemConfirmation") delete unique["ProdnOrdConf2"];
  const sessions = new Map<string, string>(); // session id → CSRF token
  const faults: { fault: TestFault; left: number }[] = [];
  const faultsApplied: AppliedFault[] = [];
  const posts: RecordedPost[] = [];
  const requestCount: Record<string, number> = {};
  const counters = new Map<string, number>();
  const hanging = new Set<ServerResponse>();

  const next = (name: string, start: number) => {
    const n = (counters.get(name) ?? start) + 1;
    counters.set(name, n);
    return n;
  };

  const authorized = (req: IncomingMessage) => {
    const auth = options.auth;
    if (auth === undefined) return true;
    const header = req.headers.authorization ?? "";
    if ("token" in auth) return header === `Bearer ${auth.token}`;
    return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
  };

  const sessionOf = (req: IncomingMessage) => /(?:^|;\s*)SAP_SESSIONID_TST_100=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];

  const takeFault = (method: string, path: string): TestFault | undefined => {
    const i = faults.findIndex(({ fault }) => (fault.method === undefined || fault.method === method) && (fault.pathIncludes === undefined || path.includes(fault.pathIncludes)));
    if (i < 0) return undefined;
    const entry = faults[i] as { fault: TestFault; left: number };
    entry.left -= 1;
    if (entry.left <= 0) faults.splice(i, 1);
    faultsApplied.push({ kind: entry.fault.kind, method, path });
    return entry.fault;
  };

  const serve = (service: Service, entitySet: string, keyText: string | undefined, url: URL, res: ServerResponse) => {
    const set = service.model.entitySets[entitySet];
    const type = set === undefined ? undefined : service.model.entityTypes[set.entityType];
    if (set === undefined || type === undefined) {
      odataError(res, 404, "/IWBEP/CM_MGW_RT/021", `Resource not found for segment '${entitySet}'`);
      return;
    }
    const rows = service.data.get(entitySet) ?? [];
    const expand = new Set((url.searchParams.get("$expand") ?? "").split(",").map((s) => s.trim().split("/")[0] ?? "").filter(Boolean));
    const select = (url.searchParams.get("$select") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const base = `${ROOT}${service.name}/`;
    const shape = (row: Record<string, unknown>) => {
      const key = keyPredicate(type, row);
      const uri = `${url.origin}${base}${entitySet}(${key})`;
      const out: Record<string, unknown> = { __metadata: { id: uri, uri, type: `${service.model.namespace}.${type.name}` } };
      for (const [name, value] of Object.entries(row)) {
        if (select.length > 0 && !select.includes(name)) continue;
        if (name in type.navigations) continue;
        out[name] = value;
      }
      for (const nav of Object.keys(type.navigations)) {
        if (select.length > 0 && !select.includes(nav)) continue;
        if (expand.has(nav)) {
          const v = row[nav];
          out[nav] = v === undefined ? (type.navigations[nav]?.many === true ? { results: [] } : null) : v;
        } else out[nav] = { __deferred: { uri: `${uri}/${nav}` } };
      }
      return out;
    };
    if (keyText !== undefined) {
      const key = parseKey(keyText, type);
      if (key === undefined) {
        odataError(res, 400, "/IWBEP/CM_MGW_RT/004", `Invalid key predicate '${keyText}'`);
        return;
      }
      for (let i = 0; i < rowCount(rows); i++) {
        const row = rowAt(rows, i);
        if (row !== undefined && type.keys.every((k) => row[k] === key[k])) {
          json(res, 200, { d: shape(row) });
          return;
        }
      }
      odataError(res, 404, "/IWBEP/CM_MGW_RT/020", `Resource not found for the segment '${entitySet}'`);
      return;
    }
    const filter = parseFilter(url.searchParams.get("$filter"));
    if (filter === "invalid") {
      odataError(res, 400, "/IWBEP/CM_MGW_RT/022", "Invalid filter expression");
      return;
    }
    const token = Number(url.searchParams.get("$skiptoken") ?? "0") || 0;
    const skip = (Number(url.searchParams.get("$skip") ?? "0") || 0) + token;
    const topParam = url.searchParams.get("$top");
    // $top counts from the first page; a $skiptoken page has served `token` rows of it already.
    const top = topParam === null ? Infinity : Math.max(0, Number(topParam) - token);
    const results: Record<string, unknown>[] = [];
    let matched = 0;
    let i = 0;
    let more = false;
    const total = rowCount(rows);
    for (; i < total; i++) {
      const row = rowAt(rows, i);
      if (row === undefined || (filter !== undefined && !filter(row))) continue;
      matched += 1;
      if (matched <= skip) continue;
      if (results.length >= Math.min(pageSize, top)) {
        more = results.length < top;
        break;
      }
      results.push(shape(row));
    }
    const d: Record<string, unknown> = { results };
    if (more) {
      // Keep the client's query as sent ($ unencoded, as Gateway writes it) and replace the skip token.
      const query = (url.search.startsWith("?") ? url.search.slice(1) : url.search)
        .split("&")
        .filter((p) => p !== "" && !/^(\$|%24)skiptoken=/i.test(p));
      query.push(`$skiptoken=${token + results.length}`);
      d["__next"] = `${url.origin}${url.pathname}?${query.join("&")}`;
    }
    json(res, 200, { d });
  };

  const create = (service: Service, entitySet: string, body: unknown, url: URL, res: ServerResponse, drop: "drop-response" | "drop-connection" | undefined, trace: { readonly traceparent?: string; readonly tracestate?: string }) => {
    const set = service.model.entitySets[entitySet];
    const type = set === undefined ? undefined : service.model.entityTypes[set.entityType];
    if (set === undefined || type === undefined) {
      odataError(res, 404, "/IWBEP/CM_MGW_RT/021", `Resource not found for segment '${entitySet}'`);
      return;
    }
    const record = (status: number) => posts.push({ service: service.name, entitySet, body, status, ...trace });
    if (!set.creatable) {
      record(405);
      odataError(res, 405, "/IWBEP/CM_MGW_RT/107", `Entity set '${entitySet}' is not creatable`);
      return;
    }
    const issues = checkAgainstEdmx(service.model, entitySet, body);
    if (issues.length > 0) {
      record(400);
      const first = issues[0];
      const text = first?.code === "unknown_property" ? `Property '${first.path.split("/").pop() ?? ""}' is invalid` : `Invalid value for ${first?.path ?? ""}: ${first?.rule ?? ""}`;
      odataError(res, 400, "/IWBEP/CM_MGW_RT/000", text, issues.map((i) => ({ code: "/IWBEP/CM_MGW_RT/000", message: i.message, target: i.path })));
      return;
    }
    const row = { ...(body as Record<string, unknown>) };
    const uniqueProp = unique[entitySet];
    const rows = service.data.get(entitySet);
    const stored = Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    if (uniqueProp !== undefined && row[uniqueProp] !== undefined && stored.some((r) => r[uniqueProp] === row[uniqueProp])) {
      record(400);
      odataError(res, 400, "RU/505", `${uniqueProp} ${String(row[uniqueProp])} was already posted`);
      return;
    }
    // Number the new entity like SAP would: keys the caller did not send get the next number.
    for (const k of type.keys) {
      if (row[k] !== undefined && row[k] !== "") continue;
      const len = type.properties[k]?.maxLength ?? 10;
      const value = k === "MaterialDocumentYear" ? "2026" : String(next(`${entitySet}.${k}`, k === "MaterialDocument" ? 4_900_000_000 : 0)).padStart(Math.min(len, 10), "0");
      row[k] = value;
    }
    for (const [nav, def] of Object.entries(type.navigations)) {
      const v = row[nav] as { results?: Record<string, unknown>[] } | undefined;
      if (v?.results === undefined) continue;
      v.results.forEach((child, i) => {
        for (const k of service.model.entityTypes[def.toType]?.keys ?? []) {
          if (child[k] === undefined) child[k] = k === "MaterialDocumentItem" ? String(i + 1).padStart(4, "0") : row[k];
        }
      });
    }
    service.data.set(entitySet, [...stored, row]);
    record(201);
    if (drop === "drop-connection") {
      res.socket?.destroy();
      return;
    }
    if (drop === "drop-response") {
      odataError(res, 500, "/IWBEP/CM_MGW_RT/500", "Internal server error (injected after the post was stored)");
      return;
    }
    const key = keyPredicate(type, row);
    const uri = `${url.origin}${ROOT}${service.name}/${entitySet}(${key})`;
    json(res, 201, { d: { __metadata: { id: uri, uri, type: `${service.model.namespace}.${type.name}` }, ...row } }, {
      location: uri,
      "sap-message": JSON.stringify({ code: "RU/100", message: "Confirmation saved", severity: "success", target: "", details: [] }),
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? "GET";
    requestCount[method] = (requestCount[method] ?? 0) + 1;
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fault = takeFault(method, url.pathname);
    if (fault?.kind === "timeout") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (fault?.kind === "status") {
      const status = fault.status ?? 500;
      odataError(res, status, status === 429 ? "TOO_MANY_REQUESTS" : "/IWBEP/CM_MGW_RT/500", status === 429 ? "Too many requests" : "Internal server error (injected)", [], fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) });
      return;
    }
    if (!authorized(req)) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="SAP NetWeaver Application Server [TST/100]"', "content-type": "text/plain" });
      res.end("Unauthorized");
      return;
    }
    if (!url.pathname.startsWith(ROOT)) {
      odataError(res, 404, "/IWFND/MED/170", "No service found for namespace");
      return;
    }
    const rest = decodeURIComponent(url.pathname.slice(ROOT.length));
    const slash = rest.indexOf("/");
    const service = services.get(slash < 0 ? rest : rest.slice(0, slash));
    if (service === undefined) {
      odataError(res, 404, "/IWFND/MED/170", "No service found for namespace");
      return;
    }
    let session = sessionOf(req);
    const headers: Record<string, string> = {};
    if (session === undefined || !sessions.has(session)) {
      session = randomBytes(12).toString("hex");
      sessions.set(session, "");
      headers["set-cookie"] = `SAP_SESSIONID_TST_100=${session}; path=/; HttpOnly`;
    }
    if ((method === "GET" || method === "HEAD") && String(req.headers["x-csrf-token"] ?? "").toLowerCase() === "fetch") {
      const token = randomBytes(16).toString("base64");
      sessions.set(session, token);
      headers["x-csrf-token"] = token;
    }
    const resource = slash < 0 ? "" : rest.slice(slash + 1);
    if (method === "HEAD") {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (method === "GET") {
      if (resource === "" ) {
        json(res, 200, { d: { EntitySets: Object.keys(service.model.entitySets) } });
        return;
      }
      if (resource === "$metadata") {
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(service.edmx);
        return;
      }
      const m = /^(\w+)(?:\((.*)\))?$/.exec(resource);
      if (m === null) {
        odataError(res, 404, "/IWBEP/CM_MGW_RT/021", `Resource not found for segment '${resource}'`);
        return;
      }
      serve(service, m[1] ?? "", m[2], url, res);
      return;
    }
    if (method === "POST") {
      const token = req.headers["x-csrf-token"];
      if (typeof token !== "string" || token === "" || sessions.get(session) !== token) {
        res.writeHead(403, { "x-csrf-token": "Required", "content-type": "text/plain" });
        res.end("CSRF token validation failed");
        return;
      }
      const fn = Object.hasOwn(service.model.functionImports, resource) ? service.model.functionImports[resource] : undefined;
      if (fn !== undefined) {
        const stored = (set: string) => {
          const rows = service.data.get(set);
          return Array.isArray(rows) ? [...(rows as Record<string, unknown>[])] : [];
        };
        const outcome = callFunctionImport(service.name, fn, method, url.searchParams, { model: service.model, rows: stored, store: (set, rows) => service.data.set(set, rows), next, unique });
        const { traceparent, tracestate } = req.headers;
        posts.push({ service: service.name, entitySet: fn.entitySet ?? "", functionImport: fn.name, body: outcome.parameters, status: outcome.status, ...(typeof traceparent === "string" ? { traceparent } : {}), ...(typeof tracestate === "string" ? { tracestate } : {}) });
        if (!outcome.ok) {
          odataError(res, outcome.status, outcome.code, outcome.message, outcome.details);
          return;
        }
        const type = service.model.entityTypes[service.model.entitySets[outcome.entitySet]?.entityType ?? ""];
        const uri = `${url.origin}${ROOT}${service.name}/${outcome.entitySet}(${type === undefined ? "" : keyPredicate(type, outcome.entity)})`;
        json(res, outcome.status, { d: { __metadata: { id: uri, uri, type: `${service.model.namespace}.${type?.name ?? ""}` }, ...outcome.entity } });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        odataError(res, 400, "/IWBEP/CM_MGW_RT/001", "The request body is not valid JSON");
        return;
      }
      const { traceparent, tracestate } = req.headers;
      const trace = { ...(typeof traceparent === "string" ? { traceparent } : {}), ...(typeof tracestate === "string" ? { tracestate } : {}) };
      create(service, resource, body, url, res, fault?.kind === "drop-response" || fault?.kind === "drop-connection" ? fault.kind : undefined, trace);
      return;
    }
    odataError(res, 405, "/IWBEP/CM_MGW_RT/107", `Method ${method} not supported`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) odataError(res, 500, "/IWBEP/CM_MGW_RT/500", "Internal server error");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    serviceUrl: (name) => `${origin}${ROOT}${name}/`,
    seed(service, entitySet, rows) {
      const s = services.get(service);
      if (s === undefined) throw new Error(`test SAP server: unknown service ${service}`);
      if (s.model.entitySets[entitySet] === undefined) throw new Error(`test SAP server: ${service} has no entity set ${entitySet}`);
      s.data.set(entitySet, rows);
    },
    rows(service, entitySet) {
      const rows = services.get(service)?.data.get(entitySet) ?? [];
      return Array.from({ length: Math.min(rowCount(rows), 10_000) }, (_, i) => rowAt(rows, i) ?? {});
    },
    posts,
    inject(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    faultsApplied,
    requestCount,
    expireSessions() {
      sessions.clear();
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
