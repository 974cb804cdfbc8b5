/**
 * `millwright validate` on an N-event NDJSON file (default 1,000,000): throughput against a bare
 * `JSON.parse` loop over the same lines, and the command's peak memory (max RSS of the process).
 * Both sides run as their own Node process, each timed by its CPU time (user + system) from spawn
 * to exit, so each pays Node's startup once; the baseline is the loop a user would write (read 1 MB chunks, split at newlines, JSON.parse).
 * Run: node --import tsx packages/cli/bench/validate.bench.ts [count]   (writes a file to the OS temp dir;
 * needs the built CLI, packages/cli/dist). Writes bench/results/cli-validate-<count>.json.
 * --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts): 60,000 events,
 * the median of 3 interleaved rounds, written to FILE with the fields ratio and peakRssMB.
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packLineEvent } from "../test/machine-state-event.js";

const root = join(import.meta.dirname, "..", "..", "..");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outAt = argv.indexOf("--out");
const OUT = outAt >= 0 ? argv[outAt + 1] : undefined;
const positional = argv.find((a, i) => /^\d+$/.test(a) && argv[i - 1] !== "--out");
const count = Number(positional ?? (quick ? 60_000 : 1_000_000));
const rounds = quick ? 3 : 1;
const bin = join(root, "packages", "cli", "dist", "cli.js");
if (!existsSync(bin)) throw new Error(`validate bench: ${bin} is missing; build the CLI first (npx turbo run build --filter=@millwright/cli)`);
const dir = join(tmpdir(), "millwright-validate-bench");
mkdirSync(dir, { recursive: true });
const file = join(dir, `events-${count}-${process.pid}.ndjson`);

// Distinct machine-state events (about 850 bytes each), as a line's OPC UA adapter would emit them.
const out = createWriteStream(file);
for (let i = 0; i < count; i++) {
  const line = packLineEvent("urn:millwright:opcua:pack1", String(1772820133482000 + i));
  if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once("drain", resolve));
}
await new Promise<void>((resolve) => out.end(resolve));
const bytes = statSync(file).size;

// Baseline: the same lines read and JSON.parse'd by a bare loop in its own process.
const BARE = `
import { createReadStream } from "node:fs";
let rest = "";
let parsed = 0;
for await (const chunk of createReadStream(process.argv[1], { highWaterMark: 1 << 20, encoding: "utf8" })) {
  const text = rest + chunk;
  let start = 0;
  for (let nl = text.indexOf("\\n"); nl !== -1; nl = text.indexOf("\\n", start)) {
    if (nl > start && JSON.parse(text.slice(start, nl)) !== null) parsed++;
    start = nl + 1;
  }
  rest = text.slice(start);
}
if (rest !== "" && JSON.parse(rest) !== null) parsed++;
console.log(parsed);
`;

/**
 * One process run, as the OS counts it: its CPU time (user + system; a machine shared with other
 * jobs disturbs it far less than wall time), its wall time, its max RSS, and its output.
 */
function timed(args: string[]): { seconds: number; wallSeconds: number; peakRssMB: number; stdout: string } {
  const t = process.hrtime.bigint();
  // bench/src/profile.ts profiles both processes too: Node 20 takes no --cpu-prof in NODE_OPTIONS.
  const profile = process.env["BENCH_CPU_PROF_DIR"] === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_CPU_PROF_DIR"]}`];
  const run = spawnSync("/usr/bin/time", ["-f", "%M %U %S", process.execPath, ...profile, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  const wallSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (run.status !== 0) throw new Error(`validate bench: ${args.join(" ").slice(0, 80)} failed: ${run.stdout.slice(0, 500)} ${run.stderr.slice(0, 500)}`);
  const [rssKb, user, system] = (run.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  return { seconds: (user ?? NaN) + (system ?? NaN), wallSeconds, peakRssMB: (rssKb ?? NaN) / 1024, stdout: run.stdout.trim() };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bareRuns: ReturnType<typeof timed>[] = [];
const cliRuns: ReturnType<typeof timed>[] = [];
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Interleaved: load from other processes hits both sides alike.
  const bare = timed(["--input-type=module", "-e", BARE, file]);
  // The command as users run it: the built binary.
  const cli = timed([bin, "validate", file]);
  bareRuns.push(bare);
  cliRuns.push(cli);
  ratios.push(cli.seconds / bare.seconds);
}
const parsed = Number(bareRuns[0]?.stdout);
if (parsed !== count) throw new Error(`validate bench: the bare loop parsed ${parsed} lines of ${count}`);
const bareSeconds = median(bareRuns.map((r) => r.seconds));
const cliSeconds = median(cliRuns.map((r) => r.seconds));
const peakRssMB = Math.max(...cliRuns.map((r) => r.peakRssMB));

const result = {
  node: process.version,
  date: new Date().toISOString(),
  quick,
  events: parsed,
  fileMB: bytes / 1e6,
  rounds,
  clock: "CPU seconds (user + system) of each process",
  bareJsonParse: { seconds: bareSeconds, wallSeconds: median(bareRuns.map((r) => r.wallSeconds)), eventsPerCpuSecond: parsed / bareSeconds, peakRssMB: Math.max(...bareRuns.map((r) => r.peakRssMB)) },
  validate: { seconds: cliSeconds, wallSeconds: median(cliRuns.map((r) => r.wallSeconds)), eventsPerCpuSecond: parsed / cliSeconds, peakRssMB, output: cliRuns[0]?.stdout },
  ratio: median(ratios),
  ratios,
  peakRssMB,
};
console.log(JSON.stringify(result, null, 2));
console.log(`\nvalidate ${parsed} events (${(bytes / 1e6).toFixed(0)} MB): ${result.ratio.toFixed(2)}x the bare JSON.parse loop (target <= 2x), peak ${peakRssMB.toFixed(0)} MB (target < 200 MB)`);
if (OUT !== undefined) writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
if (!quick) writeFileSync(join(root, "bench", "results", `cli-validate-${count}.json`), `${JSON.stringify(result, null, 2)}\n`);
rmSync(file);
