/**
 * The full runs of the package benches of issue 16's table, one process each, in turn: the second
 * half of `pnpm bench` (after the model and events benches). Each writes its result to
 * bench/results/<name>.json (the validate bench: cli-validate-1000000.json).
 *
 *   node --import tsx bench/src/full.ts [name …]     (all of them without names)
 *
 * The validate bench runs the built CLI: build it first (npx turbo run build --filter=@millwright/cli).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const SOURCE = ["--conditions=@millwright/source", "--expose-gc", "--import", "tsx"];

/** Each full bench: its package directory and its script with the full run's arguments. */
const FULL: readonly { name: string; dir: string; args: readonly string[] }[] = [
  { name: "inbox", dir: "idempotency", args: ["bench/inbox.bench.ts"] },
  { name: "transports", dir: "transports", args: ["bench/transports.bench.ts"] },
  { name: "validate", dir: "cli", args: ["bench/validate.bench.ts"] },
  { name: "sap", dir: "adapter-sap", args: ["bench/work-orders.bench.ts"] },
  { name: "alignment", dir: "alignment", args: ["bench/align.bench.ts"] },
  { name: "arbitraries", dir: "testing", args: ["bench/arbitraries.bench.ts"] },
];

const names = process.argv.slice(2);
for (const bench of FULL.filter((b) => names.length === 0 || names.includes(b.name))) {
  console.log(`\n== ${bench.name} (packages/${bench.dir}: ${bench.args.join(" ")})`);
  const started = performance.now();
  execFileSync(process.execPath, [...SOURCE, ...bench.args], { cwd: join(ROOT, "packages", bench.dir), stdio: "inherit" });
  console.log(`== ${bench.name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
