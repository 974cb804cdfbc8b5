import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { releasedOrder } from "../test/fixtures/canonical-records.js";
import { startTestWms, type TestWms } from "./test-server.js";
import { sendWmsRequest } from "./wms-client.js";
import { createStagingRequest } from "./wms-contract.js";

const closing: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closing.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
}

async function wmsFor(webhookUrl: string): Promise<TestWms> {
  const wms = await startTestWms({ secret: "s3cret", webhookUrl, deliveryRetries: 0 });
  closing.push(() => wms.close());
  return wms;
}

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string } | { failed: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "POST", headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ failed: "no answer" });
    });
    req.on("error", (e) => resolve({ failed: e.message }));
    req.end(body);
  });
}

describe("the test WMS under hostile input", () => {
  it("answers 400 to a request of deeply nested JSON", async () => {
    const wms = await wmsFor(await listen((_req, res) => void res.writeHead(200).end()));
    const body = `{"type":"staging_request","lines":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const answer = await post(`${wms.url}/requests`, { "content-type": "application/json" }, body);
    expect(answer).toMatchObject({ status: 400 });
    expect((answer as { text: string }).text.length).toBeLessThan(10_000);
  });

  it("answers 413 with Connection: close to an oversized request", async () => {
    const wms = await wmsFor(await listen((_req, res) => void res.writeHead(200).end()));
    const body = "x".repeat(4 * 1024 * 1024);
    expect(await post(`${wms.url}/requests`, { "content-type": "application/json", "transfer-encoding": "chunked" }, body)).toMatchObject({ status: 413, headers: { connection: "close" } });
  });

  it("does not follow a redirect with a signed webhook: the other server receives nothing", async () => {
    const other: string[] = [];
    const elsewhere = await listen((req, res) => {
      other.push(req.url ?? "");
      res.writeHead(200).end();
    });
    const wms = await wmsFor(await listen((_req, res) => void res.writeHead(307, { location: elsewhere }).end()));
    const request = createStagingRequest(releasedOrder, { destination: { site: { id: "1710" }, bin: "LINE-1" }, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();
    expect((await sendWmsRequest(request, { url: `${wms.url}/requests` }))._unsafeUnwrap()).toBe(202);
    await wms.idle();
    expect(wms.deliveries.length).toBeGreaterThan(0);
    expect(wms.deliveries.every((d) => d.status === 307)).toBe(true);
    expect(other).toEqual([]);
  });
});
