import { execFile, spawnSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { goBuildAndVetModule, removeTempDirs, run, tempDir } from "./toolchains.js";

// examples/consumer-go: a Go service that reads canonical work-order events with the types
// `millwright codegen` writes. Its generated package is committed, so this test is also the drift
// check the example's README recommends: regenerate with the CLI, compare, then build and run.

const root = join(import.meta.dirname, "..", "..", "..");
const example = join(root, "examples", "consumer-go");

afterAll(removeTempDirs);

describe("examples/consumer-go", () => {
  test("the committed generated package is what `millwright codegen --lang go --types WorkOrder` writes today", async () => {
    const out = join(tempDir("consumer-go-gen"), "millwright");
    const cli = join(root, "packages", "cli", "src", "cli.ts");
    await promisify(execFile)(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, "codegen", "--lang", "go", "--types", "WorkOrder", "--out", out], { cwd: root });
    expect(readFileSync(join(out, "millwright.go"), "utf8"), "regenerate with: go generate ./... in examples/consumer-go").toBe(readFileSync(join(example, "millwright", "millwright.go"), "utf8"));
  }, 60_000);

  test("builds, vets and passes its own tests offline; prints a canonical event's progress from the exact decimals, and refuses data the contract does not allow", () => {
    const dir = tempDir("consumer-go");
    const module = join(dir, "module");
    cpSync(example, module, { recursive: true });
    const env = goBuildAndVetModule(module, dir);
    run("go", ["test", "./..."], { cwd: module, env, what: "go test in examples/consumer-go" });
    const binary = join(dir, "order-progress");
    run("go", ["build", "-o", binary, "."], { cwd: module, env, what: "go build of examples/consumer-go" });
    const events = readFileSync(join(example, "testdata", "work-order-started.ndjson"), "utf8");
    expect(events.trim().split("\n")).toHaveLength(1);
    const progress = spawnSync(binary, [], { input: events, encoding: "utf8" });
    expect(progress.stderr).toBe("");
    expect(progress.status).toBe(0);
    expect(progress.stdout).toBe("order 1000123 at 1710: in_progress, 120 of 500 H87 (24.0%); 0010 in_progress; 0020 released\n");

    const event = JSON.parse(events) as { data: Record<string, unknown> };
    event.data["orderNumber"] = event.data["orderId"];
    const refused = spawnSync(binary, [], { input: `${JSON.stringify(event)}\n`, encoding: "utf8" });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe('order-progress: line 1: event 1000123: data is not a WorkOrder: json: unknown field "orderNumber"\n');
  }, 180_000);
});
