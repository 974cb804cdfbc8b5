// A tiny MES on 127.0.0.1 for the order-release tests: takes dispatches and withdrawals of work
// orders over HTTP, applies each once per idempotency key (the `idempotency-key` header), and
// counts what it applied, so a test counts effects at the peer.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { permanent, retryable, type HandlerError } from "@millwright/idempotency";
import { err, ok, type Result } from "neverthrow";
import type { JsonValue } from "../../src/types.js";

/** A running test MES. */
export interface TestMes {
  readonly url: string;
  /** Dispatches applied (once per key), in order. */
  readonly dispatched: readonly { readonly orderId: string; readonly key: string; readonly dispatchId: string }[];
  /** Withdrawals applied (once per key), in order. */
  readonly withdrawn: readonly { readonly orderId: string; readonly key: string; readonly dispatchId: string }[];
  /** Every request received, by path. */
  readonly requests: Readonly<Record<string, number>>;
  /** Answer the next n requests with 503 before doing anything. */
  failNext(n: number): void;
  close(): Promise<void>;
}

/** Starts the test MES. */
export async function startTestMes(): Promise<TestMes> {
  const dispatched: { orderId: string; key: string; dispatchId: string }[] = [];
  const withdrawn: { orderId: string; key: string; dispatchId: string }[] = [];
  const requests: Record<string, number> = {};
  const byKey = new Map<string, string>();
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      requests[path] = (requests[path] ?? 0) + 1;
      if (failures > 0) {
        failures -= 1;
        res.writeHead(503).end();
        return;
      }
      const key = req.headers["idempotency-key"];
      let body: { orderId?: unknown; dispatchId?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        res.writeHead(400).end("not JSON");
        return;
      }
      if (typeof key !== "string" || typeof body.orderId !== "string") {
        res.writeHead(400).end("idempotency-key header and orderId are required");
        return;
      }
      const done = byKey.get(key);
      if (done !== undefined) {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ dispatchId: done, duplicate: true }));
        return;
      }
      if (path === "/dispatch") {
        const dispatchId = `D-${String(dispatched.length + 1).padStart(4, "0")}`;
        dispatched.push({ orderId: body.orderId, key, dispatchId });
        byKey.set(key, dispatchId);
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ dispatchId }));
        return;
      }
      if (path === "/withdraw" && typeof body.dispatchId === "string") {
        if (!dispatched.some((d) => d.dispatchId === body.dispatchId)) {
          res.writeHead(404).end("no such dispatch");
          return;
        }
        withdrawn.push({ orderId: body.orderId, key, dispatchId: body.dispatchId });
        byKey.set(key, body.dispatchId);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ dispatchId: body.dispatchId }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    dispatched,
    withdrawn,
    requests,
    failNext: (n) => {
      failures = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A MES call over HTTP with the idempotency key as a header: 2xx → the JSON answer; 5xx or a
 * network error → retryable; other 4xx → permanent.
 */
export async function callMes(url: string, body: Readonly<Record<string, string>>, key: string): Promise<Result<JsonValue, HandlerError>> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": key }, body: JSON.stringify(body) });
  } catch (cause) {
    return err(retryable(`POST ${url} failed`, cause));
  }
  const text = await res.text();
  if (res.status >= 500) return err(retryable(`POST ${url} answered ${res.status}`));
  if (res.status >= 400) return err(permanent(`POST ${url} answered ${res.status}: ${text}`));
  return ok(JSON.parse(text) as JsonValue);
}
