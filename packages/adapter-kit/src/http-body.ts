import type { IncomingMessage } from "node:http";

/** A body read by {@link readBody}: the bytes, or why it was not read whole. */
export type BodyRead = { readonly body: Buffer } | { readonly failed: "body_too_large" | "body_timeout" | "body_aborted" };

/**
 * Read a request body of at most `limit` bytes within `timeoutMs`. On failure it stops reading,
 * keeps nothing and pauses the request, so a slow or endless body cannot hold memory or the
 * server; answer 413 / 408 with `Connection: close`.
 *
 * @param request - the incoming request, its body not yet read
 * @param limit - the largest body in bytes
 * @param timeoutMs - how long the whole body may take once the headers are in
 * @returns the body, or `body_too_large`, `body_timeout` or `body_aborted` (the client went away)
 * @example
 * ```ts
 * const read = await readBody(request, 1_048_576, 5_000);
 * if ("failed" in read) response.writeHead(read.failed === "body_too_large" ? 413 : 408, { connection: "close" }).end();
 * ```
 */
export function readBody(request: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (read: BodyRead): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onClose);
      if ("failed" in read) {
        chunks.length = 0;
        request.pause();
      }
      resolve(read);
    };
    const timer = setTimeout(() => finish({ failed: "body_timeout" }), timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish({ failed: "body_too_large" });
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish({ body: Buffer.concat(chunks, size) });
    const onGone = (): void => finish({ failed: "body_aborted" });
    const onClose = (): void => {
      if (!request.complete) finish({ failed: "body_aborted" });
    };
    request.on("data", onData).on("end", onEnd).on("error", onGone).on("close", onClose);
  });
}
