import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

/** Runs a module in a fresh node process with the package's sources; its stdout. */
function run(code: string): string {
  const child = spawnSync(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", "--input-type=module", "-e", code], { cwd: ROOT, encoding: "utf8" });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return child.stdout.trim();
}

describe("@opentelemetry/api is loaded lazily", () => {
  it("is not loaded with the package, and is loaded synchronously by the first trace helper", () => {
    const out = run(`
      import Module from "node:module";
      const loaded = () => Object.keys(Module._cache).some((file) => file.includes("@opentelemetry"));
      const events = await import("./src/index.ts");
      const before = loaded();
      const headers = events.toTraceHeaders({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 });
      const between = loaded();
      const context = events.fromTraceHeaders({ traceparent: headers.traceparent });
      console.log(JSON.stringify({ before, between, after: loaded(), made: context !== undefined }));
    `);
    // toTraceHeaders needs only the span context it is given; fromTraceHeaders builds a Context.
    expect(JSON.parse(out)).toEqual({ before: false, between: false, after: true, made: true });
  });
});
