import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";

const dir = join(import.meta.dirname, "..");
const run = promisify(execFile);
let stdout = "";

// Runs the example exactly as `pnpm start` does: the command of its package.json's start script.
beforeAll(async () => {
  const start = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const [command = "", ...args] = start.split(" ");
  expect(command).toBe("node");
  ({ stdout } = await run(process.execPath, args, { cwd: dir, timeout: 30_000 }));
}, 40_000);

describe("webhook-inbox", () => {
  test("every signed request is accepted; the resent events are duplicates, applied once", () => {
    expect(stdout).toContain("WMS sent 3 movements: published, published, published\n");
    expect(stdout).toContain("WMS sent 2 again: published, published\n");
    expect(stdout).toContain("receiver: 5 received, 3 processed, 2 duplicates, 0 dead-lettered, 0 rejected\n");
    expect(stdout).toContain("dead letters: 0\n");
  });

  test("the ledger holds each movement once: 120 − 30 RM10 and 450 RM20 moved to FAB1", () => {
    const ledger = stdout.slice(stdout.indexOf("MES stock ledger:\n")).split("\n").slice(1).filter((l) => l.startsWith("  "));
    expect(ledger).toEqual(["  171A RM10 -90", "  171A RM20 -450", "  FAB1 RM10 90", "  FAB1 RM20 450"]);
  });

  test("a request without the secret's signature is refused and changes nothing", () => {
    // The signature scheme is the receiver's business; what matters here is the 401 and no effect.
    expect(stdout).toMatch(/^sender without the secret: failed, the receiver answered 401: /m);
    expect(stdout).not.toContain("GONE");
  });
});
