import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { releasedOrder } from "../test/fixtures/canonical-records.js";
import { sendWmsRequest } from "./wms-client.js";
import { createStagingRequest } from "./wms-contract.js";

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A server that records every request and answers with `answer`. */
async function recording(answer: (path: string) => { status: number; location?: string; body?: string }): Promise<{ url: string; got: { path: string; headers: IncomingHttpHeaders; body: string }[] }> {
  const got: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const a = answer(req.url ?? "");
      res.writeHead(a.status, a.location === undefined ? {} : { location: a.location }).end(a.body ?? "");
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/requests`, got };
}

const request = createStagingRequest(releasedOrder, { destination: { site: { id: "1710" }, bin: "LINE-1" }, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();

describe("sendWmsRequest and redirects", () => {
  it.each([301, 302, 303, 307, 308])("does not follow a %d to another origin: the other server receives nothing", async (status) => {
    const other = await recording(() => ({ status: 202 }));
    const wms = await recording(() => ({ status, location: other.url }));
    for (const followSameOriginRedirects of [false, true]) {
      const sent = await sendWmsRequest(request, { url: wms.url, delay: () => 0, followSameOriginRedirects });
      expect(sent._unsafeUnwrapErr()).toMatchObject({ code: "rejected", status });
    }
    expect(wms.got).toHaveLength(2);
    expect(other.got).toEqual([]);
  });

  it("follows a 307/308 to the same origin only when allowed, with the request body", async () => {
    const wms = await recording((path) => (path === "/requests" ? { status: 307, location: "/v2/requests" } : { status: 202 }));
    expect((await sendWmsRequest(request, { url: wms.url, delay: () => 0 }))._unsafeUnwrapErr()).toMatchObject({ code: "rejected", status: 307 });
    expect((await sendWmsRequest(request, { url: wms.url, delay: () => 0, followSameOriginRedirects: true }))._unsafeUnwrap()).toBe(202);
    expect(wms.got.map((g) => g.path)).toEqual(["/requests", "/requests", "/v2/requests"]);
    expect(JSON.parse(wms.got[2]!.body)).toEqual(JSON.parse(JSON.stringify(request)));
  });

  it("shows the WMS's refusal cut to 1,000 printable characters", async () => {
    const wms = await recording(() => ({ status: 422, body: "\u0085no".repeat(10_000) }));
    const error = (await sendWmsRequest(request, { url: wms.url, delay: () => 0 }))._unsafeUnwrapErr();
    expect(error).toMatchObject({ code: "rejected", status: 422 });
    const body = (error as { body: string }).body;
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
