/**
 * The quick benchmarks of issue 16's table: how the gate (gate.ts) and the profiler (profile.ts)
 * run each one, and the file its quick run writes to bench/results/.
 */
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
/** bench/results: the recorded results, and the quick runs' `*.quick.tmp.json` (not committed). */
export const RESULTS = join(ROOT, "bench", "results");

/** One quick benchmark: how to run it and the file its quick run writes. */
export interface Bench {
  readonly name: string;
  /** Node's own flags; the gate's default is `--expose-gc --import tsx`. */
  readonly node?: readonly string[];
  readonly args: readonly string[];
  readonly cwd: string;
  readonly output: string;
}

export const NODE_FLAGS = ["--expose-gc", "--import", "tsx"];
/** Package benches import the workspace packages' sources, as their `bench` scripts do. */
const SOURCE_FLAGS = ["--conditions=@millwright/source", "--expose-gc", "--import", "tsx"];
const pkg = (name: string): string => join(ROOT, "packages", name);
/** A package bench run with `--quick --out <file>`: the quick run writes its JSON result there. */
const quickBench = (name: string, dir: string, script: string): Bench => ({
  name,
  node: SOURCE_FLAGS,
  args: [script, "--quick", "--out", join(RESULTS, `${name}.quick.tmp.json`)],
  cwd: pkg(dir),
  output: `${name}.quick.tmp.json`,
});
/** The benchmarks of issue 16's table, in the gate's order. */
export const BENCHES: readonly Bench[] = [
  { name: "model", args: ["src/main.ts", "--quick"], cwd: join(ROOT, "bench"), output: "model.quick.tmp.json" },
  { name: "events", node: SOURCE_FLAGS, args: ["packages/events/bench/envelope.bench.ts", "--quick"], cwd: ROOT, output: "events.quick.tmp.json" },
  quickBench("inbox", "idempotency", "bench/inbox.bench.ts"),
  quickBench("transports", "transports", "bench/transports.bench.ts"),
  quickBench("validate", "cli", "bench/validate.bench.ts"),
  quickBench("sap", "adapter-sap", "bench/work-orders.bench.ts"),
  quickBench("alignment", "alignment", "bench/align.bench.ts"),
  // The OPC UA bench is an .mjs file run with the same flags (its --quick mode is the OPC UA work's).
  { name: "opcua", node: SOURCE_FLAGS, args: ["bench/run.mjs", "--quick", "--out", join(RESULTS, "opcua.quick.tmp.json")], cwd: pkg("adapter-opcua"), output: "opcua.quick.tmp.json" },
  quickBench("arbitraries", "testing", "bench/arbitraries.bench.ts"),
  // The numbers of two other issues, gated the same way: Sparkplug B (issue 19), workflows on SQLite (issue 14).
  quickBench("sparkplug", "adapter-sparkplug", "bench/run.ts"),
  quickBench("workflows", "workflows", "bench/sqlite-overhead.ts"),
];

