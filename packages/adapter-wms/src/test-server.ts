// A test WMS on 127.0.0.1: accepts staging requests, simulates picking and staging, and sends
// signed webhooks in its own vendor format, with injectable faults. For tests and demos only.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "@millwright/adapter-kit";
import { signWebhook } from "./webhook.js";
import { parseWmsRequest, type HoldRequest, type StagingRequest, type WmsLocation } from "./wms-contract.js";
import type { MappingTemplate } from "./wms-mapping.js";

/** Faults the test WMS injects. */
export interface TestWmsFaults {
  /** Answer the first n requests with HTTP 500 before accepting. */
  readonly failRequests?: number;
  /** Deliver every n-th webhook twice (each delivery signed anew, like a sender's retry). */
  readonly duplicateEvery?: number;
  /** Deliver webhooks in a shuffled order (deterministic for a given seed). */
  readonly reorder?: boolean;
  /** The seed of the shuffle. */
  readonly seed?: number;
  /**
   * Refuse every staging request for these order ids for good: HTTP 422 `staging_refused`, on every
   * attempt (a WMS that cannot stage the order: no such line, the order is locked).
   */
  readonly refuseStagingFor?: readonly string[];
  /**
   * Lose the next n hold confirmations: the block or unblock is applied, but its confirmation
   * webhook is never sent (listed in `lostConfirmations`). Needs `confirmHoldRequests`.
   */
  readonly loseHoldConfirmations?: number;
}

/** Options of {@link startTestWms}. */
export interface TestWmsOptions {
  /** The HMAC secret shared with the adapter's webhook verifier. */
  readonly secret: string;
  /** Where to POST webhooks. */
  readonly webhookUrl: string;
  readonly faults?: TestWmsFaults;
  /** The clock (ms since the epoch) for confirmation times and signatures; `Date.now` by default. */
  readonly now?: () => number;
  /** How often a failed webhook delivery (non-2xx) is retried; 3 by default. */
  readonly deliveryRetries?: number;
  /**
   * Confirm block and unblock requests with a STATUS task webhook (stock status AV → BL, BL → AV),
   * as a WMS that reports stock status changes does. Off by default: the requests are accepted
   * and confirm nothing.
   */
  readonly confirmHoldRequests?: boolean;
}

/** A running test WMS. */
export interface TestWms {
  /** Base URL, e.g. `http://127.0.0.1:41234`. Staging requests go to `POST /requests`. */
  readonly url: string;
  /** Every request body received, valid or not, in order. */
  readonly received: readonly unknown[];
  /** Every request applied (its effect in the warehouse), once per request id, in order. */
  readonly applied: readonly { readonly requestId: string; readonly type: string }[];
  /** Every request refused for good (`refuseStagingFor`), with the answer's reason. */
  readonly refused: readonly { readonly requestId: string; readonly reason: string }[];
  /** Request ids whose hold confirmation was lost (`loseHoldConfirmations`), once per loss. */
  readonly lostConfirmations: readonly string[];
  /** Every webhook delivery attempt: the vendor payload and the HTTP status the receiver answered. */
  readonly deliveries: readonly { readonly payload: unknown; readonly status: number }[];
  /** Resolves when every webhook of every accepted request has been delivered (or given up). */
  readonly idle: () => Promise<void>;
  readonly close: () => Promise<void>;
}

/** The test WMS's vendor payload: one confirmed warehouse task. */
export interface TestWmsTask {
  readonly taskId: string;
  readonly taskType: "PICK" | "STAGE";
  readonly sku: string;
  readonly lot?: string;
  readonly qty: string;
  readonly uom: string;
  readonly src: { readonly plant: string; readonly sloc?: string; readonly whse?: string; readonly bin?: string };
  readonly dst: { readonly plant: string; readonly sloc?: string; readonly whse?: string; readonly bin?: string };
  readonly confirmedAt: string;
  readonly orderNo: string;
  readonly requestRef: string;
}

/**
 * The test WMS's confirmation of a block or unblock: the stock status of the held stock changed
 * (`statusFrom` → `statusTo`: AV available, QI quality inspection, BL blocked) at `loc`.
 */
export interface TestWmsStatusTask {
  readonly taskId: string;
  readonly taskType: "STATUS";
  readonly sku: string;
  readonly lot?: string;
  readonly qty: string;
  readonly uom: string;
  readonly loc: { readonly plant: string; readonly sloc?: string; readonly whse?: string; readonly bin?: string };
  readonly statusFrom: "AV" | "QI" | "BL";
  readonly statusTo: "AV" | "QI" | "BL";
  readonly confirmedAt: string;
}

/**
 * The JSONata mapping from the test WMS's task payload to the WMS event contract: a worked example
 * of a declarative vendor mapping.
 *
 * @example
 * const mapping = createVendorMapping({ name: "test-wms", template: testWmsMapping })._unsafeUnwrap();
 */
export const testWmsMapping: MappingTemplate = {
  eventId: "taskId",
  type: "$lookup({'PICK': 'pick', 'STAGE': 'stage_to_line', 'STATUS': 'stock_status_change'}, taskType)",
  occurredAt: "confirmedAt",
  material: { id: "sku" },
  batchId: "lot",
  quantity: { value: "qty", unit: "$lookup({'KG': 'KGM', 'PC': 'H87', 'ST': 'H87', 'M': 'MTR'}, uom)" },
  from: { site: { id: "src.plant" }, storageLocation: "src.sloc", warehouse: "src.whse", bin: "src.bin" },
  to: { site: { id: "dst.plant" }, storageLocation: "dst.sloc", warehouse: "dst.whse", bin: "dst.bin" },
  order: { orderId: "orderNo" },
  stagingRequestId: "requestRef",
  at: { site: { id: "loc.plant" }, storageLocation: "loc.sloc", warehouse: "loc.whse", bin: "loc.bin" },
  fromStockType: "$lookup({'AV': 'unrestricted', 'QI': 'quality_inspection', 'BL': 'blocked'}, statusFrom)",
  toStockType: "$lookup({'AV': 'unrestricted', 'QI': 'quality_inspection', 'BL': 'blocked'}, statusTo)",
};

const VENDOR_UNITS: Readonly<Record<string, string>> = { KGM: "KG", H87: "PC", MTR: "M" };

function place(location: WmsLocation): TestWmsTask["src"] {
  return {
    plant: location.site.id,
    ...(location.storageLocation !== undefined ? { sloc: location.storageLocation } : {}),
    ...(location.warehouse !== undefined ? { whse: location.warehouse } : {}),
    ...(location.bin !== undefined ? { bin: location.bin } : {}),
  };
}

function shuffle<T>(items: T[], seed: number): T[] {
  // Deterministic xorshift: the same seed gives the same order in every run.
  let state = seed || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** The largest request body the test WMS reads, and how long it waits for one. */
const MAX_REQUEST_BYTES = 1024 * 1024;
const REQUEST_BODY_TIMEOUT_MS = 5000;


/** Answers JSON, serialised before the status goes out so that an answer always follows. */
function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  let text: string;
  let code = status;
  try {
    text = JSON.stringify(body);
  } catch {
    code = 500;
    text = JSON.stringify({ error: "the answer could not be serialised" });
  }
  res.writeHead(code, { "content-type": "application/json", ...headers }).end(text);
}

/** A contract error as the test WMS answers it: code, path and message of each issue, bounded, without the raw values. */
function describeError(error: unknown): unknown {
  const e = error as { readonly code?: unknown; readonly message?: unknown; readonly issues?: readonly { readonly path?: unknown; readonly message?: unknown }[] };
  const text = (v: unknown): string => (typeof v === "string" ? (v.length > 300 ? `${v.slice(0, 299)}…` : v) : "");
  return {
    code: text(e.code),
    message: text(e.message),
    ...(Array.isArray(e.issues) ? { issues: e.issues.slice(0, 20).map((i) => ({ path: text(i.path), message: text(i.message), rule: text((i as { rule?: unknown }).rule) })) } : {}),
  };
}

function tasksFor(request: StagingRequest, counter: { n: number }, confirmedAt: string): TestWmsTask[] {
  const tasks: TestWmsTask[] = [];
  const staging: WmsLocation = { ...request.destination, bin: "STAGE-01" };
  for (const line of request.lines) {
    const source: WmsLocation = line.source ?? { site: request.destination.site, storageLocation: "0001", bin: "STOCK-01" };
    const common = {
      sku: line.material.id,
      ...(line.batchId !== undefined ? { lot: line.batchId } : {}),
      qty: line.quantity.value,
      uom: VENDOR_UNITS[line.quantity.unit] ?? line.quantity.unit,
      confirmedAt,
      orderNo: request.order.orderId,
      requestRef: request.requestId,
    };
    counter.n += 1;
    tasks.push({ taskId: `T-${String(counter.n).padStart(6, "0")}`, taskType: "PICK", ...common, src: place(source), dst: place(staging) });
    counter.n += 1;
    tasks.push({ taskId: `T-${String(counter.n).padStart(6, "0")}`, taskType: "STAGE", ...common, src: place(staging), dst: place(request.destination) });
  }
  return tasks;
}

function statusTaskFor(request: HoldRequest, counter: { n: number }, confirmedAt: string): TestWmsStatusTask {
  counter.n += 1;
  const place = request.location ?? { site: { id: "0000" } };
  return {
    taskId: `T-${String(counter.n).padStart(6, "0")}`,
    taskType: "STATUS",
    sku: request.material.id,
    ...(request.batchId !== undefined ? { lot: request.batchId } : {}),
    qty: request.quantity?.value ?? "0",
    uom: request.quantity === undefined ? "PC" : (VENDOR_UNITS[request.quantity.unit] ?? request.quantity.unit),
    loc: {
      plant: place.site.id,
      ...(place.storageLocation !== undefined ? { sloc: place.storageLocation } : {}),
      ...(place.warehouse !== undefined ? { whse: place.warehouse } : {}),
      ...(place.bin !== undefined ? { bin: place.bin } : {}),
    },
    statusFrom: request.type === "block" ? "AV" : "BL",
    statusTo: request.type === "block" ? "BL" : "AV",
    confirmedAt,
  };
}

/**
 * Starts the test WMS on 127.0.0.1 with an ephemeral port.
 *
 * @param options - webhook target, shared secret, faults and clock
 * @returns the running WMS; call `close()` when done
 * @example
 * const wms = await startTestWms({ secret: "s3cret", webhookUrl: "http://127.0.0.1:4000/webhooks" });
 * await wms.close();
 */
export async function startTestWms(options: TestWmsOptions): Promise<TestWms> {
  const now = options.now ?? Date.now;
  const faults = options.faults ?? {};
  const retries = options.deliveryRetries ?? 3;
  const received: unknown[] = [];
  const deliveries: { payload: unknown; status: number }[] = [];
  // Request id → the confirmation of an applied hold request, re-sent when the same id comes again.
  const accepted = new Map<string, TestWmsStatusTask | undefined>();
  const applied: { requestId: string; type: string }[] = [];
  const refused: { requestId: string; reason: string }[] = [];
  const lostConfirmations: string[] = [];
  const counter = { n: 0 };
  let failuresLeft = faults.failRequests ?? 0;
  let lossesLeft = faults.loseHoldConfirmations ?? 0;
  let work: Promise<void> = Promise.resolve();

  const deliver = async (payload: TestWmsTask | TestWmsStatusTask, trace: Readonly<Record<string, string>>): Promise<void> => {
    for (let attempt = 0; attempt <= retries; attempt++) {
      const body = JSON.stringify(payload);
      const headers = { ...trace, "content-type": "application/json", ...signWebhook({ secret: options.secret, body, timestamp: now() / 1000 }) };
      let status = 0;
      try {
        // Redirects are not followed: a signed webhook goes to webhookUrl or nowhere.
        const response = await fetch(options.webhookUrl, { method: "POST", headers, body, redirect: "manual" });
        await response.body?.cancel().catch(() => undefined);
        status = response.status;
      } catch {
        status = 0;
      }
      deliveries.push({ payload, status });
      if (status >= 200 && status < 300) return;
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const read = await readBody(req, MAX_REQUEST_BYTES, REQUEST_BODY_TIMEOUT_MS);
      if ("failed" in read) {
        if (read.failed === "body_aborted") return;
        const [status, error] = read.failed === "body_too_large" ? [413, `the body exceeds ${MAX_REQUEST_BYTES} bytes`] : [408, `the body did not arrive within ${REQUEST_BODY_TIMEOUT_MS} ms`];
        answer(res, status, { error }, { connection: "close" });
        return;
      }
      const text = read.body.toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      received.push(json);
      if (req.method !== "POST" || req.url !== "/requests") {
        res.writeHead(404).end();
        return;
      }
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        answer(res, 500, { error: "injected failure" });
        return;
      }
      const request = parseWmsRequest(json);
      if (request.isErr()) {
        answer(res, 400, describeError(request.error));
        return;
      }
      const value = request.value;
      // The webhooks of a request continue its trace, as a traced WMS would.
      const trace: Record<string, string> = {};
      for (const name of ["traceparent", "tracestate"]) {
        const value = req.headers[name];
        if (typeof value === "string") trace[name] = value;
      }
      // A hold confirmation goes out unless a loss is due; a lost one is listed, not sent.
      const confirm = (task: TestWmsStatusTask, requestId: string) => {
        if (lossesLeft > 0) {
          lossesLeft -= 1;
          lostConfirmations.push(requestId);
          return;
        }
        work = work.then(() => deliver(task, trace));
      };
      if (accepted.has(value.requestId)) {
        // The same request id again: no second effect; the stock status is reported again.
        answer(res, 200, { status: "duplicate" });
        const task = accepted.get(value.requestId);
        if (task !== undefined) confirm(task, value.requestId);
        return;
      }
      if (value.type === "staging_request" && (faults.refuseStagingFor ?? []).includes(value.order.orderId)) {
        const reason = `order ${value.order.orderId} cannot be staged`;
        refused.push({ requestId: value.requestId, reason });
        answer(res, 422, { code: "staging_refused", message: reason });
        return;
      }
      applied.push({ requestId: value.requestId, type: value.type });
      if (value.type !== "staging_request") {
        const task = options.confirmHoldRequests === true ? statusTaskFor(value, counter, new Date(now()).toISOString()) : undefined;
        accepted.set(value.requestId, task);
        answer(res, 202, { status: "accepted" });
        if (task !== undefined) confirm(task, value.requestId);
        return;
      }
      accepted.set(value.requestId, undefined);
      answer(res, 202, { status: "accepted" });
      let tasks = tasksFor(value, counter, new Date(now()).toISOString());
      if (faults.duplicateEvery !== undefined && faults.duplicateEvery > 0) {
        const every = faults.duplicateEvery;
        tasks = tasks.flatMap((t, i) => ((i + 1) % every === 0 ? [t, t] : [t]));
      }
      if (faults.reorder === true) tasks = shuffle(tasks, faults.seed ?? 42);
      work = work.then(async () => {
        for (const task of tasks) await deliver(task, trace);
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    applied,
    refused,
    lostConfirmations,
    deliveries,
    idle: async () => {
      // New work may be queued while waiting: wait until the chain stops growing.
      let current: Promise<void>;
      do {
        current = work;
        await current;
      } while (current !== work);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
