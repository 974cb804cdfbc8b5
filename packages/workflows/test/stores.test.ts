import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSqliteDrivers, openSqliteDatabase } from "@millwright/idempotency/sqlite";
import { createMemoryWorkflowStore } from "../src/stores/memory.js";
import { createSqliteWorkflowStore } from "../src/sqlite.js";
import { describeStoreConformance } from "./store-conformance.js";

describeStoreConformance("memory", async () => ({ store: createMemoryWorkflowStore(), close: async () => {} }));

for (const driver of findSqliteDrivers()) {
  describeStoreConformance(`sqlite (${driver})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "millwright-workflows-"));
    const db = openSqliteDatabase(join(dir, "workflows.db"), { driver })._unsafeUnwrap();
    return {
      store: createSqliteWorkflowStore(db),
      close: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
