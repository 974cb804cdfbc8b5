import { startTestSapServer, type TestSapServer, type TestSapServerOptions } from "../src/test-server/index.js";
import { readEdmx, SERVICES } from "./metadata.js";

/** Start the test SAP system with all four shipped services. */
export function startSap(options: Partial<TestSapServerOptions> = {}): Promise<TestSapServer> {
  return startTestSapServer({ services: SERVICES.map((name) => ({ name, edmx: readEdmx(name) })), ...options });
}

/**
 * Send an OData V2 function import call the way a Gateway client does: fetch a CSRF token with its
 * session cookie, then POST `<service root><path>` with an empty body.
 */
export async function callFunctionImport(serviceUrl: string, request: { readonly method: string; readonly path: string }): Promise<{ readonly status: number; readonly body: unknown }> {
  const head = await fetch(serviceUrl, { method: "HEAD", headers: { "x-csrf-token": "Fetch" } });
  const token = head.headers.get("x-csrf-token") ?? "";
  const cookie = (head.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const res = await fetch(new URL(request.path, serviceUrl), { method: request.method, headers: { "x-csrf-token": token, cookie, accept: "application/json" } });
  return { status: res.status, body: (await res.json()) as unknown };
}
