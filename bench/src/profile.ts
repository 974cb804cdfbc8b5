/**
 * A CPU profile of each quick bench, summarised beside its result: bench/results/profiles/<bench>.md
 * lists the functions with the most self time and the self time per area (package, dependency,
 * Node internals, GC), so a missed row shows what each stage costs. The profiles themselves go to
 * a temporary directory and are deleted.
 *
 *   node --import tsx bench/src/profile.ts [bench …]     (all benches of benches.ts without names)
 *
 * The bench runs with `--cpu-prof`; Node 20 refuses that flag in NODE_OPTIONS, so the processes a
 * bench spawns (the CLI and the bare loop of the validate bench, the inbox's worker processes) are
 * profiled by the bench itself when BENCH_CPU_PROF_DIR names a directory. The tables add all the
 * processes up; the list of processes says how much each one took.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BENCHES, NODE_FLAGS, RESULTS } from "./benches.js";

const ROOT = join(import.meta.dirname, "..", "..");
const OUT = join(RESULTS, "profiles");
const TOP = 15;

/** The parts of a .cpuprofile this summary reads. */
interface CpuProfile {
  readonly nodes: readonly { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const sources = new Map<string, readonly string[]>();
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The line a TypeScript function is declared on. tsx runs sources with their whitespace minified
 * (one line per file), so the profile's line numbers say nothing for them: the function is found
 * by its name in the source instead; `?` when it has none or is not found.
 */
function tsLine(path: string, name: string): string {
  if (name === "" || name.startsWith("(")) return "?";
  let lines = sources.get(path);
  if (lines === undefined) {
    try {
      lines = readFileSync(path, "utf8").split("\n");
    } catch {
      lines = [];
    }
    sources.set(path, lines);
  }
  const n = escape(name);
  const declared = new RegExp(`(function\\*?\\s+${n}\\b|\\b${n}\\s*=\\s*(async\\s*)?(\\(|function|[a-z_$][\\w$]*\\s*=>)|^\\s*(public |private |static |async |\\*|get |set )*${n}\\s*[(<])`);
  const at = lines.findIndex((l) => declared.test(l));
  return at === -1 ? "?" : String(at + 1);
}

/** A source location as the tables print it: relative to the repository, dependencies by package. */
function where(url: string, line: number, name: string): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  const shown = dep !== null ? `${dep[1]}/${dep[2]}` : path.startsWith(ROOT) ? relative(ROOT, path) : path;
  const ts = dep === null && /\.[cm]?tsx?$/.test(path) && line === 0;
  return `${shown}:${ts ? tsLine(path, name) : line + 1}`;
}

/** The area a location belongs to: a workspace package, a dependency, Node itself, or V8's own work. */
function area(name: string, url: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const path = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (dep !== null) return dep[1] as string;
  const pkg = /\/packages\/([^/]+)\/(src|bench|test|dist)\//.exec(path);
  if (pkg !== null) return `@millwright/${pkg[1]} (${pkg[2]})`;
  if (path.startsWith("node:")) return "node internals";
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

interface Summary {
  readonly processes: { file: string; ms: number; top: string }[];
  readonly functions: Map<string, { name: string; at: string; ms: number }>;
  readonly areas: Map<string, number>;
  total: number;
}

function add(summary: Summary, file: string, profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame] as const));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let processMs = 0;
  const local = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id);
    // Idle time, and a bench blocked in spawnSync while its child (profiled on its own) runs.
    if (frame === undefined || frame.functionName === "(idle)" || (frame.functionName === "spawnSync" && frame.url.startsWith("node:"))) continue;
    const ms = us / 1000;
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
    const at = where(frame.url, frame.lineNumber, frame.functionName);
    const key = `${name}\u0000${at}`;
    const entry = summary.functions.get(key) ?? { name, at, ms: 0 };
    entry.ms += ms;
    summary.functions.set(key, entry);
    const a = area(frame.functionName, frame.url);
    summary.areas.set(a, (summary.areas.get(a) ?? 0) + ms);
    local.set(a, (local.get(a) ?? 0) + ms);
    processMs += ms;
  }
  summary.total += processMs;
  const top = [...local].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([a, ms]) => `${a} ${((ms / processMs) * 100).toFixed(0)} %`).join(", ");
  summary.processes.push({ file, ms: processMs, top });
}

function profileBench(name: string): void {
  const bench = BENCHES.find((b) => b.name === name);
  if (bench === undefined) throw new Error(`profile: no bench named ${name}; the benches are ${BENCHES.map((b) => b.name).join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), `millwright-prof-${name}-`));
  try {
    const started = performance.now();
    execFileSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...(bench.node ?? NODE_FLAGS), ...bench.args], {
      cwd: bench.cwd,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, BENCH_CPU_PROF_DIR: dir },
    });
    const seconds = (performance.now() - started) / 1000;
    const summary: Summary = { processes: [], functions: new Map(), areas: new Map(), total: 0 };
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) add(summary, file, JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile);
    const pct = (ms: number): string => `${((ms / summary.total) * 100).toFixed(1)} %`;
    const cell = (text: string): string => text.replaceAll("|", "\\|");
    const lines = [
      `# CPU profile: ${name} bench (quick mode)`,
      "",
      `\`${[...(bench.node ?? NODE_FLAGS), ...bench.args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a))].join(" ")}\` in \`${relative(ROOT, bench.cwd) || "."}\`, every Node process with \`--cpu-prof\` (spawned ones through BENCH_CPU_PROF_DIR).`,
      `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "unknown"}; ${seconds.toFixed(0)} s wall under the profiler; ${summary.total.toFixed(0)} ms of samples (idle, and waits for a spawned process, left out) in ${summary.processes.length} process(es).`,
      "Self time includes both sides of each ratio (the bare baseline and the measured path) and the bench's own setup.",
      "",
      `## Top ${TOP} functions by self time`,
      "",
      "| function | url:line | self ms | % |",
      "|---|---|---:|---:|",
      ...[...summary.functions.values()]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, TOP)
        .map((f) => `| ${cell(f.name)} | ${cell(f.at)} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`),
      "",
      "## Self time by area",
      "",
      "| area | self ms | % |",
      "|---|---:|---:|",
      ...[...summary.areas].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([a, ms]) => `| ${cell(a)} | ${ms.toFixed(0)} | ${pct(ms)} |`),
      "",
      "## Processes",
      "",
      "| profile | self ms | largest areas |",
      "|---|---:|---|",
      ...summary.processes.sort((a, b) => b.ms - a.ms).map((p) => `| ${p.file} | ${p.ms.toFixed(0)} | ${cell(p.top)} |`),
      "",
    ];
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${name}.md`), lines.join("\n"));
    console.log(`profile: ${name}: ${summary.processes.length} process(es), ${summary.total.toFixed(0)} ms sampled, ${seconds.toFixed(0)} s → bench/results/profiles/${name}.md`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = process.argv.slice(2);
for (const name of names.length > 0 ? names : BENCHES.map((b) => b.name)) profileBench(name);
