// The pure core loads without node-opcua: importing the package root and using its configuration
// and counter functions must not load any node-opcua module (over a hundred packages, and a security
// warning on stdout in every service that imports the adapter). Each case runs in a fresh Node
// process, as a user's service would, with test/load-recorder.mjs logging every module loaded.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const recorder = fileURLToPath(new URL("load-recorder.mjs", import.meta.url));
const logDir = mkdtempSync(join(tmpdir(), "millwright-opcua-import-"));
let runs = 0;

afterAll(() => {
  rmSync(logDir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every module URL the process resolved or required. */
  readonly loaded: readonly string[];
}

/**
 * Runs an ES module script in a fresh Node process in the package directory, so
 * `@millwright/adapter-opcua` resolves to this package (to its src/ through the source condition).
 */
function runScript(script: string): Promise<Run> {
  const log = join(logDir, `loaded-${++runs}.txt`);
  const child = spawn(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", "--import", recorder, "--input-type=module", "-e", script], {
    cwd: packageDir,
    env: { ...process.env, LOAD_RECORDER_FILE: log, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const loaded = readFileSync(log, "utf8").split("\n").filter((line) => line !== "");
      resolve({ code, stdout, stderr, loaded });
    });
  });
}

const isNodeOpcua = (url: string): boolean => /\/node_modules\/(\.pnpm\/)?node-opcua/.test(url);

const config = {
  endpointUrl: "opc.tcp://127.0.0.1:1",
  sourceSystem: "urn:plc-line1:opcua-server",
  equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } },
  signals: [
    { role: "machine_state", nodeId: "ns=3;s=Line1.State" },
    { role: "good_count", nodeId: "ns=3;s=Line1.Good" },
  ],
};

describe("importing the package root", () => {
  it("loads no node-opcua module and prints no warning when only the pure core is used", async () => {
    const run = await runScript(`
      const opcua = await import("@millwright/adapter-opcua");
      const config = opcua.parseAdapterConfig(${JSON.stringify(config)});
      const delta = opcua.computeCounterDelta(2147483630, -2147483616, opcua.INT32_COUNTER);
      const step = opcua.applyReadings(config._unsafeUnwrap(), opcua.EMPTY_LINE_STATE, []);
      console.log(JSON.stringify({ config: config.isOk(), delta, events: step.events.length, exports: typeof opcua.startOpcuaAdapter }));
    `);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // node-opcua prints its NODE-OPCUA-W27 warning on stdout: only the script's own line may be there.
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({ config: true, delta: { kind: "rollover", delta: 50, reset: false, rollover: true }, events: 0, exports: "function" });
    // The recorder saw the package's own modules, so an empty match below means none was loaded.
    expect(run.loaded.some((url) => url.endsWith("/adapter-opcua/src/config.ts"))).toBe(true);
    expect(run.loaded.some((url) => url.endsWith("/adapter-kit/src/counter.ts"))).toBe(true);
    expect(run.loaded.filter(isNodeOpcua)).toEqual([]);
  });

  it("loads node-opcua once the runtime starts an adapter", async () => {
    const run = await runScript(`
      const opcua = await import("@millwright/adapter-opcua");
      const statuses = [];
      const adapter = await opcua.startOpcuaAdapter({
        config: opcua.parseAdapterConfig(${JSON.stringify(config)})._unsafeUnwrap(),
        store: opcua.createMemoryCounterStore(),
        handler: () => undefined,
        onStatus: (status) => statuses.push(status),
        reconnectDelay: { initial: 10_000, max: 10_000 },
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      (await adapter._unsafeUnwrap().stop())._unsafeUnwrap();
      console.log("statuses " + JSON.stringify(statuses));
    `);
    expect(run.code).toBe(0);
    // Nothing listens on port 1: the adapter tried to connect and failed, then stopped. node-opcua's
    // warning shares stdout with the script's line.
    const line = run.stdout.split("\n").find((l) => l.startsWith("statuses "));
    const statuses = JSON.parse(line?.slice("statuses ".length) ?? "null") as string[];
    expect(statuses[0]).toBe("disconnected");
    expect(statuses).toContain("connecting");
    expect(statuses.at(-1)).toBe("stopped");
    expect(run.loaded.filter(isNodeOpcua).length).toBeGreaterThan(10);
  });
});
