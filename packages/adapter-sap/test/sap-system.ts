import { startTestSapServer, type TestSapServer, type TestSapServerOptions } from "../src/test-server/index.js";
import { readEdmx, SERVICES } from "./metadata.js";

/** Start the test SAP system with all four shipped services. */
export function startSap(options: Partial<TestSapServerOptions> = {}): Promise<TestSapServer> {
  return startTestSapServer({ services: SERVICES.map((name) => ({ name, edmx: readEdmx(name) })), ...options });
}
