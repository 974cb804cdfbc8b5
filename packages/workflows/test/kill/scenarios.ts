// The kill scenarios, run on one store kind: a worker process is stopped with SIGKILL at a
// boundary, a new worker process takes over on the same store, and every effect is counted at
// the peers (the test SAP system and the test WMS over HTTP, run by this process).
//
// Determinism: the dying worker prints `AT <boundary>` from inside the step (whose function then
// hangs with the lease still renewed) or once the instance is suspended in its sleep; then the
// first worker is killed, its SIGKILL checked, and the replacement started. The replacement was
// loaded alongside the first worker (loading takes seconds on a busy machine) and idles until `GO`,
// so it runs only after the kill, and it is polling well before the dead worker's lease ends:
// "it waited for the lease" is an observation, not a hope.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createWorkflowRuntime, stepIdempotencyKey, type InstanceRecord } from "../../src/index.js";
import type { HistoryEntry } from "../../src/types.js";
import type { Peers } from "../builtin/peers.js";
import { countAtPeers, killAll, msOf, openBackend, openPeers, spawnWorker, timeline, type Backend, type PeerCounts, type Worker } from "./harness.js";
import { postingReference } from "../../src/builtin/peers.js";
import { KILL_WORKFLOW, killWorkflow, type KillInput } from "./kill-workflow.js";

const LEASE_MS = 2000;

interface World {
  readonly backend: Backend;
  readonly peers: Peers;
  readonly env: Record<string, string>;
  start(key: string, input: KillInput): Promise<string>;
  load(id: string): Promise<{ readonly instance: InstanceRecord; readonly history: readonly HistoryEntry[] }>;
}

const closing: (() => Promise<void>)[] = [];
const figures: string[] = [];

async function world(kind: "sqlite" | "pg"): Promise<World> {
  const backend = await openBackend(kind);
  closing.push(() => backend.close());
  const { peers, env } = await openPeers();
  closing.push(() => peers.close());
  // The parent only creates instances and reads them; it never runs one (no worker loop, no runDue).
  const workflow = killWorkflow({ sapUrl: env["SAP_URL"] ?? "", wmsUrl: env["WMS_URL"] ?? "", hook: async () => {} });
  const starter = createWorkflowRuntime({ store: backend.store, workflows: [workflow], workerId: "parent" });
  return {
    backend,
    peers,
    env: { ...backend.env, ...env, LEASE_MS: String(LEASE_MS) },
    start: async (key, input) => (await starter.start(workflow, key, input))._unsafeUnwrap().id,
    load: async (id) => {
      const snapshot = await backend.store.load(id);
      if (snapshot === undefined) throw new Error(`no instance ${id}`);
      return snapshot;
    },
  };
}

const key = (step: string, k: string, compensation = false) => stepIdempotencyKey(KILL_WORKFLOW, k, step, compensation ? "compensation" : undefined);

/**
 * Loads two workers at once (loading takes seconds on a busy machine): the first to run and die,
 * the second, loaded but idle until `go`, to take over.
 */
async function twoWorkers(w: World, first: Record<string, string>, second: Record<string, string>): Promise<[Worker, Worker]> {
  return Promise.all([spawnWorker("w1", { ...w.env, ...first }), spawnWorker("w2", { ...w.env, ...second })]);
}

/** Kills `dying` (its replacement is loaded and idle); checks the SIGKILL; starts the replacement. */
async function killAndReplace(dying: Worker, replacement: Worker, whileNoneRuns: () => void = () => {}): Promise<{ killedAt: number; startedAt: number }> {
  const killedAt = Date.now();
  const death = await dying.kill();
  expect(death, `the first worker died by SIGKILL; stderr: ${dying.stderr()}`).toEqual({ code: null, signal: "SIGKILL" });
  whileNoneRuns();
  replacement.go();
  const startedAt = msOf(await replacement.line("STARTED"));
  return { killedAt, startedAt };
}

async function finish(worker: Worker): Promise<number> {
  const done = msOf(await worker.line("DONE", 30_000));
  expect(await worker.exited, worker.stderr()).toEqual({ code: 0, signal: null });
  return done;
}

/** One boundary inside a step or compensation: what the peers must have seen at the kill, and after. */
interface Boundary {
  readonly name: string;
  readonly point: string;
  readonly fail: boolean;
  /** The step (or compensation) that was running, and the history kind of its attempts. */
  readonly step: string;
  readonly kind: "step" | "compensation";
  /**
   * Whether the dying worker's attempt is in the history at the kill. The runtime defers the
   * `step-started` of the first attempt of the first step of a clean run to that step's own
   * outcome (src/runtime.ts, executeStep): killed there, the attempt leaves no record, and the
   * replacement's attempt (recorded at once: the claim is `recovered`) is number 1 again.
   */
  readonly recordedAtKill: boolean;
  readonly atKill: (k: string) => Partial<PeerCounts>;
  readonly after: (k: string) => Partial<PeerCounts>;
  readonly finalState: "completed" | "compensated";
  /** What the re-run's record says, when it tells how the peer answered. */
  readonly rerun?: (k: string) => Record<string, unknown>;
}

const BLOCK = (k: string) => `block:${key("block-in-wms", k)}`;
const UNBLOCK = (k: string) => `unblock:${key("unblock-in-wms", k)}`;
const COMP_UNBLOCK = (k: string) => `unblock:${key("block-in-wms", k, true)}`;

const BOUNDARIES: readonly Boundary[] = [
  {
    name: "(a) before the WMS block's effect",
    point: "before-effect:block-in-wms",
    recordedAtKill: true,
    fail: false,
    step: "block-in-wms",
    kind: "step",
    atKill: () => ({ sapDocuments: ["344"], sapPosts: 1, sapGets: 1, wmsReceived: [], wmsApplied: [] }),
    // The ERP step was recorded before the kill: SAP sees no further request at all.
    after: (k) => ({ sapDocuments: ["344"], sapPosts: 1, sapGets: 1, wmsReceived: [BLOCK(k), UNBLOCK(k)], wmsApplied: [BLOCK(k), UNBLOCK(k)] }),
    finalState: "completed",
  },
  {
    name: "(b) after the SAP posting reached SAP, before its record",
    point: "after-effect:block-in-erp",
    recordedAtKill: false,
    fail: false,
    step: "block-in-erp",
    kind: "step",
    atKill: () => ({ sapDocuments: ["344"], sapPosts: 1, sapGets: 1, wmsReceived: [] }),
    // The re-run looks the reference up (a second GET), finds the document and posts nothing.
    after: (k) => ({ sapDocuments: ["344"], sapPosts: 1, sapGets: 2, wmsApplied: [BLOCK(k), UNBLOCK(k)] }),
    finalState: "completed",
    rerun: (k) => ({ reference: postingReference(key("block-in-erp", k)), alreadyPosted: true }),
  },
  {
    name: "(b) after the WMS block reached the WMS, before its record",
    point: "after-effect:block-in-wms",
    recordedAtKill: true,
    fail: false,
    step: "block-in-wms",
    kind: "step",
    atKill: (k) => ({ sapDocuments: ["344"], wmsReceived: [BLOCK(k)], wmsApplied: [BLOCK(k)] }),
    // The re-run sends the same request id again: received twice, applied once.
    after: (k) => ({ sapDocuments: ["344"], sapPosts: 1, sapGets: 1, wmsReceived: [BLOCK(k), BLOCK(k), UNBLOCK(k)], wmsApplied: [BLOCK(k), UNBLOCK(k)] }),
    finalState: "completed",
  },
  {
    name: "(c) during a compensation, after its effect reached the WMS",
    point: "compensation:block-in-wms",
    recordedAtKill: true,
    fail: true,
    step: "block-in-wms",
    kind: "compensation",
    atKill: (k) => ({ sapDocuments: ["344"], wmsApplied: [BLOCK(k), COMP_UNBLOCK(k)] }),
    // The compensation re-ran with its key (absorbed by the WMS), then the ERP block was compensated (343) once.
    after: (k) => ({ sapDocuments: ["344", "343"], sapPosts: 2, wmsReceived: [BLOCK(k), COMP_UNBLOCK(k), COMP_UNBLOCK(k)], wmsApplied: [BLOCK(k), COMP_UNBLOCK(k)] }),
    finalState: "compensated",
  },
];

/**
 * Declares the kill tests on one store kind.
 *
 * @param kind - `sqlite` (a file) or `pg` (a fresh database per test)
 * @example
 * describeKillTests("sqlite");
 */
export function describeKillTests(kind: "sqlite" | "pg"): void {
  afterEach(async () => {
    await killAll();
    for (const close of closing.splice(0).reverse()) await close();
  }, 30_000);

  describe(`SIGKILL of a worker process, ${kind} store`, () => {
    for (const b of BOUNDARIES) {
      it(`${b.name}: a new worker waits for the lease, re-runs with the same key, every effect once at the peers`, async () => {
        const t0 = Date.now();
        const w = await world(kind);
        const k = `kill-${randomBytes(3).toString("hex")}`;
        const id = await w.start(k, { sleepMs: 0, fail: b.fail });
        const [first, replacement] = await twoWorkers(w, { WATCH: id, KILL_AT: b.point }, { WATCH: id });
        first.go();
        await first.line(`AT ${b.point}`);

        // The fault: the boundary was reached, and the peers saw exactly what they should by then.
        expect(countAtPeers(w.peers)).toMatchObject(b.atKill(k));
        const { killedAt, startedAt } = await killAndReplace(first, replacement);

        // The dead worker's attempt is unfinished in the history, and its lease still stands.
        const atKill = await w.load(id);
        const started = b.kind === "step" ? "step-started" : "compensation-started";
        const ended = b.kind === "step" ? "step-completed" : "compensation-completed";
        expect(timeline(atKill.history).at(-1)).toBe(b.recordedAtKill ? `${started}:${b.step}#1` : "started");
        expect(atKill.instance.leaseOwner).toBe("w1");
        const leaseUntil = atKill.instance.leaseUntil;
        expect(startedAt, "the replacement was polling before the dead worker's lease ended").toBeLessThan(leaseUntil);
        const killSeq = atKill.history.at(-1)?.seq ?? 0;

        await finish(replacement);
        const after = await w.load(id);
        expect(after.instance.state).toBe(b.finalState);
        // Nothing was written to the instance before the dead worker's lease ended.
        const later = after.history.filter((h) => h.seq > killSeq);
        expect(later.length).toBeGreaterThan(0);
        for (const h of later) expect(h.at, `${h.type} at ${h.at} vs lease until ${leaseUntil}`).toBeGreaterThanOrEqual(leaseUntil);
        // The replacement re-ran the step (the attempt after the recorded one), which then completed once.
        const line = timeline(after.history);
        const rerun = b.recordedAtKill ? 2 : 1;
        expect(line.filter((e) => e.startsWith(`${started}:${b.step}#`))).toEqual([...(b.recordedAtKill ? [`${started}:${b.step}#1`] : []), `${started}:${b.step}#${rerun}`]);
        expect(line.filter((e) => e.startsWith(`${ended}:${b.step}#`))).toEqual([`${ended}:${b.step}#${rerun}`]);
        if (b.rerun !== undefined) {
          const record = after.history.find((h) => h.type === "step-completed" && h.step === b.step);
          expect(record?.type === "step-completed" ? record.result : undefined).toMatchObject(b.rerun(k));
        }
        // Every effect once at the peers; the repeated request was absorbed.
        expect(countAtPeers(w.peers)).toMatchObject(b.after(k));
        if (b.finalState === "completed") expect(line.filter((e) => e === "completed")).toHaveLength(1);
        else expect(line.filter((e) => e.startsWith("compensation-completed:"))).toEqual(["compensation-completed:block-in-wms#2", "compensation-completed:block-in-erp#1"]);
        figures.push(`${kind} ${b.point}: workers loaded in ${Math.max(first.loadMs, replacement.loadMs)} ms, history ${line.length} entries, lease ended ${leaseUntil - killedAt} ms after the kill, first write +${(later[0]?.at ?? 0) - leaseUntil} ms after lease end, test ${Date.now() - t0} ms`);
      }, 60_000);
    }

    it("(d) during a durable sleep: a new worker fires the timer once, when it is due", async () => {
      const t0 = Date.now();
      const w = await world(kind);
      const k = `sleep-${randomBytes(3).toString("hex")}`;
      const id = await w.start(k, { sleepMs: 3000, fail: false });
      const [first, replacement] = await twoWorkers(w, { WATCH: id, WATCH_WAITING: id }, { WATCH: id });
      first.go();
      await first.line(`AT waiting ${id}`);
      const waiting = await w.load(id);
      expect(waiting.instance.state).toBe("waiting");
      const dueAt = waiting.instance.wakeAt ?? 0;
      expect(timeline(waiting.history).at(-1)).toBe("wait-started:hold-period");
      expect(countAtPeers(w.peers)).toMatchObject({ sapDocuments: ["344"], wmsApplied: [BLOCK(k)] });

      const { killedAt } = await killAndReplace(first, replacement);
      expect(killedAt, "killed before the timer was due").toBeLessThan(dueAt);
      await finish(replacement);

      const after = await w.load(id);
      expect(after.instance.state).toBe("completed");
      const ends = after.history.filter((h) => h.type === "wait-ended");
      expect(ends).toHaveLength(1);
      expect(ends[0]?.at, "fired when due, not before").toBeGreaterThanOrEqual(dueAt);
      expect(timeline(after.history).filter((e) => e.startsWith("step-started:"))).toEqual(["step-started:block-in-erp#1", "step-started:block-in-wms#1", "step-started:unblock-in-wms#1"]);
      expect(countAtPeers(w.peers)).toMatchObject({ sapDocuments: ["344"], sapPosts: 1, wmsReceived: [BLOCK(k), UNBLOCK(k)], wmsApplied: [BLOCK(k), UNBLOCK(k)] });
      figures.push(`${kind} sleep: workers loaded in ${Math.max(first.loadMs, replacement.loadMs)} ms, killed ${dueAt - killedAt} ms before due, fired +${(ends[0]?.at ?? 0) - dueAt} ms after due, test ${Date.now() - t0} ms`);
    }, 60_000);

    it("a clock jump forward across a restart and while running fires what is due, once", async () => {
      const t0 = Date.now();
      const w = await world(kind);
      const clockFile = join(tmpdir(), `millwright-kill-clock-${randomBytes(4).toString("hex")}`);
      writeFileSync(clockFile, "0");
      closing.push(async () => rmSync(clockFile, { force: true }));
      const [ka, kb] = [`jump-a-${randomBytes(3).toString("hex")}`, `jump-b-${randomBytes(3).toString("hex")}`];
      const a = await w.start(ka, { sleepMs: 3_600_000, fail: false });
      const b = await w.start(kb, { sleepMs: 3 * 3_600_000, fail: false });
      const [first, replacement] = await twoWorkers(w, { WATCH: `${a},${b}`, WATCH_WAITING: `${a},${b}`, CLOCK_FILE: clockFile }, { WATCH: `${a},${b}`, CLOCK_FILE: clockFile });
      first.go();
      await Promise.all([first.line(`AT waiting ${a}`), first.line(`AT waiting ${b}`)]);
      const dueA = (await w.load(a)).instance.wakeAt ?? 0;
      const dueB = (await w.load(b)).instance.wakeAt ?? 0;

      // Killed in the sleep; the clock jumps 1 h forward while no worker runs: A is due, B is not.
      await killAndReplace(first, replacement, () => writeFileSync(clockFile, String(3_600_000 + 1000)));
      for (let i = 0; (await w.load(a)).instance.state !== "completed"; i++) {
        expect(i, "A completes after the jump").toBeLessThan(500);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const bWaiting = await w.load(b);
      expect(bWaiting.instance.state).toBe("waiting");
      expect(bWaiting.history.filter((h) => h.type === "wait-ended")).toHaveLength(0);
      expect(countAtPeers(w.peers).wmsApplied).not.toContain(UNBLOCK(kb));

      // A second jump, 2 h more, while the new worker runs: B fires.
      writeFileSync(clockFile, String(3 * 3_600_000 + 2000));
      await finish(replacement);
      for (const [id, due] of [
        [a, dueA],
        [b, dueB],
      ] as const) {
        const after = await w.load(id);
        expect(after.instance.state).toBe("completed");
        const ends = after.history.filter((h) => h.type === "wait-ended");
        expect(ends).toHaveLength(1);
        expect(ends[0]?.at).toBeGreaterThanOrEqual(due);
      }
      const counts = countAtPeers(w.peers);
      for (const k of [ka, kb]) {
        expect(counts.wmsReceived.filter((r) => r === UNBLOCK(k))).toHaveLength(1);
        expect(counts.wmsApplied.filter((r) => r === UNBLOCK(k) || r === BLOCK(k))).toEqual([BLOCK(k), UNBLOCK(k)]);
      }
      expect(counts.wmsApplied).toHaveLength(4);
      expect(counts.sapDocuments).toEqual(["344", "344"]);
      figures.push(`${kind} clock jump: workers loaded in ${Math.max(first.loadMs, replacement.loadMs)} ms, test ${Date.now() - t0} ms`);
    }, 60_000);

    afterAll(() => console.log(`kill tests (${kind}):\n  ${figures.join("\n  ")}`));
  });
}
