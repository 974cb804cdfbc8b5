// The SQLite store's file layout: a file written by 0.1 (history keyed by the instance's UUID) is
// brought up to date and its instances run on; a step's commit writes the log alone, and the steps
// of instances running at once share a commit (pages counted in the WAL itself, checkpoints off).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteDatabase, type OpenedSqliteDatabase } from "@millwright/idempotency/sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/define.js";
import { instanceIdOf } from "../src/ids.js";
import { createWorkflowRuntime } from "../src/runtime.js";
import { createSqliteWorkflowStore } from "../src/sqlite.js";
import { captureLogger, CountingPeer, manualClock } from "./fixtures.js";

let dir: string;
const open: OpenedSqliteDatabase[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "millwright-wf-layout-"));
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(name = "workflows.db"): OpenedSqliteDatabase {
  const db = openSqliteDatabase(join(dir, name))._unsafeUnwrap();
  open.push(db);
  return db;
}

/** The tables 0.1 created (`withLastSeq: false`: before `instances.last_seq`). */
function layout01(db: OpenedSqliteDatabase, withLastSeq: boolean): void {
  const p = "millwright_wf_";
  db.exec(`
    CREATE TABLE ${p}instances (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL,
      input TEXT NOT NULL, state TEXT NOT NULL, output TEXT, failure TEXT, trace TEXT, wake_at INTEGER, woken_at INTEGER, deadline_at INTEGER,
      waiting_for TEXT NOT NULL DEFAULT '[]', lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0, lease_token INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL${withLastSeq ? ", last_seq INTEGER NOT NULL DEFAULT 0" : ""}) WITHOUT ROWID;
    CREATE INDEX ${p}instances_wake ON ${p}instances (wake_at) WHERE wake_at IS NOT NULL;
    CREATE INDEX ${p}instances_created ON ${p}instances (created_at DESC, id);
    CREATE INDEX ${p}instances_state ON ${p}instances (state);
    CREATE TABLE ${p}history (instance_id TEXT NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (instance_id, seq)) WITHOUT ROWID;
    CREATE TABLE ${p}signals (seq INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL, delivered_at INTEGER NOT NULL);
    CREATE INDEX ${p}signals_instance ON ${p}signals (instance_id, seq);
    CREATE TABLE ${p}events (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
      event TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (source, id));
    CREATE INDEX ${p}events_type ON ${p}events (type, received_at);
    CREATE TABLE ${p}waits (event_type TEXT NOT NULL, instance_id TEXT NOT NULL, PRIMARY KEY (event_type, instance_id)) WITHOUT ROWID;
    CREATE INDEX ${p}waits_instance ON ${p}waits (instance_id);
    CREATE TABLE ${p}dead_letters (instance_id TEXT PRIMARY KEY, at INTEGER NOT NULL, letter TEXT NOT NULL) WITHOUT ROWID;
  `);
}

/** Frames and commits in a WAL file (a commit's last frame carries the database size, others 0). */
function walFrames(file: string): { frames: number; commits: number } {
  const wal = readFileSync(file);
  const pageSize = wal.readUInt32BE(8);
  let frames = 0;
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    frames += 1;
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return { frames, commits };
}

describe("SQLite store layout", () => {
  for (const withLastSeq of [true, false]) {
    it(`brings a 0.1 file${withLastSeq ? "" : " from before last_seq"} up to date: the history moves to the log in order, and a worker finishes the instance without rerunning its recorded step`, async () => {
      const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);
      const db = connect();
      layout01(db, withLastSeq);
      // Two instances as 0.1 left them: one mid-run (its worker died after `reserve` completed),
      // one finished; their history rows interleave in key order, not in creation order.
      const midRun = instanceIdOf("migrated", "WO-1");
      const done = instanceIdOf("migrated", "WO-0");
      const entries = [
        { type: "started", at: T0 - 1000, version: 1, input: { n: 1 } },
        { type: "step-started", at: T0 - 900, step: "reserve", attempt: 1 },
        { type: "step-completed", at: T0 - 800, step: "reserve", attempt: 1, result: { reserved: 2 }, durationMs: 3 },
      ];
      const columns = `id, workflow, version, key, input, state, output, wake_at, lease_owner, lease_until, lease_token, created_at, updated_at${withLastSeq ? ", last_seq" : ""}`;
      const values = (...row: unknown[]) => (withLastSeq ? row : row.slice(0, -1));
      const insert = db.prepare(`INSERT INTO millwright_wf_instances (${columns}) VALUES (${columns.split(",").map(() => "?").join(", ")})`);
      insert.run(...values(done, "migrated", 1, "WO-0", '{"n":0}', "completed", "null", null, null, 0, 1, T0 - 2000, T0 - 1500, 2));
      insert.run(...values(midRun, "migrated", 1, "WO-1", '{"n":1}', "running", null, T0 - 1000, "dead-worker", T0 - 1, 1, T0 - 1000, T0 - 800, 3));
      const history = db.prepare("INSERT INTO millwright_wf_history (instance_id, seq, entry) VALUES (?, ?, ?)");
      history.run(done, 1, JSON.stringify({ type: "started", at: T0 - 2000, version: 1, input: { n: 0 } }));
      history.run(done, 2, JSON.stringify({ type: "completed", at: T0 - 1500, output: null }));
      entries.forEach((entry, i) => history.run(midRun, i + 1, JSON.stringify(entry)));

      const peer = new CountingPeer();
      const wf = defineWorkflow({
        name: "migrated",
        version: 1,
        run: async (wf, input: { n: number }) => {
          await wf.step("reserve", (ctx) => (peer.apply("reserve", ctx.idempotencyKey), { reserved: input.n * 2 }));
          await wf.step("dispatch", (ctx) => (peer.apply("dispatch", ctx.idempotencyKey), { dispatched: input.n }));
          return "done";
        },
      });
      const clock = manualClock(T0);
      const store = createSqliteWorkflowStore(db);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'millwright_wf_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      expect(tables).not.toContain("millwright_wf_history");
      expect(tables).not.toContain("millwright_wf_instances_state");
      expect(tables).not.toContain("millwright_wf_instances_created");
      expect(tables).toEqual(expect.arrayContaining(["millwright_wf_log", "millwright_wf_log_instance", "millwright_wf_instances_created_at"]));
      expect((await store.load(midRun))?.history).toEqual(entries.map((entry, i) => ({ ...entry, seq: i + 1 })));

      // A second store on the file (another process starting) finds it done and changes nothing.
      const again = createSqliteWorkflowStore(connect());
      expect((await again.load(done))?.history.map((h) => [h.seq, h.type])).toEqual([
        [1, "started"],
        [2, "completed"],
      ]);

      const runtime = createWorkflowRuntime({ store, workflows: [wf], clock, logger: captureLogger(), workerId: "new-worker" });
      const fresh = (await runtime.start(wf, "WO-2", { n: 2 }))._unsafeUnwrap();
      expect((await runtime.runDue())._unsafeUnwrap()).toBe(2);
      const resumed = await store.load(midRun);
      expect(resumed?.instance.state).toBe("completed");
      expect(resumed?.history.map((h) => h.seq)).toEqual(resumed?.history.map((_, i) => i + 1));
      expect(resumed?.history.slice(0, 3)).toEqual(entries.map((entry, i) => ({ ...entry, seq: i + 1 })));
      expect(resumed?.history.map((h) => h.type).slice(3)).toEqual(["step-started", "step-completed", "completed"]);
      // The recorded step did not run again; the fresh instance ran both of its steps once.
      const calls = (action: string) => peer.calls.filter((c) => c.action === action).length;
      expect(calls("reserve")).toBe(1);
      expect(calls("dispatch")).toBe(2);
      const created = await store.load(fresh.id);
      expect(created?.history.map((h) => h.type)).toEqual(["started", "step-started", "step-completed", "step-started", "step-completed", "completed"]);
      expect(created?.history[0]).toEqual({ type: "started", at: T0, version: 1, input: { n: 2 }, seq: 1 });
      expect(await store.countByState()).toEqual({ completed: 3 });
    });
  }

  it("brings a file of the first log layout (instances keyed by their UUID, started entries in the log) up to date: instances keyed by their numbers, histories unchanged, new numbers past every used one", async () => {
    const T0 = Date.UTC(2026, 11, 7, 7, 0, 0);
    const p = "millwright_wf_";
    const db = connect();
    // The first log layout (the tables other than instances are as they are now).
    db.exec(`
      CREATE TABLE ${p}instances (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL,
        input TEXT NOT NULL, state TEXT NOT NULL, output TEXT, failure TEXT, trace TEXT, wake_at INTEGER, woken_at INTEGER, deadline_at INTEGER,
        waiting_for TEXT NOT NULL DEFAULT '[]', lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0, lease_token INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0, num INTEGER) WITHOUT ROWID;
      CREATE INDEX ${p}instances_wake ON ${p}instances (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX ${p}instances_created_at ON ${p}instances (created_at, id DESC);
      CREATE TABLE ${p}log (pos INTEGER PRIMARY KEY, num INTEGER NOT NULL, seq INTEGER NOT NULL, entry TEXT NOT NULL);
      CREATE UNIQUE INDEX ${p}log_instance ON ${p}log (num, seq);
    `);
    const midRun = instanceIdOf("migrated", "WO-5");
    const done = instanceIdOf("migrated", "WO-1");
    const entries = [
      { type: "started", at: T0 - 1000, version: 1, input: { n: 5 }, trace: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } },
      { type: "step-started", at: T0 - 900, step: "reserve", attempt: 1 },
      { type: "step-completed", at: T0 - 800, step: "reserve", attempt: 1, result: { reserved: 10 }, durationMs: 3 },
    ];
    const insert = db.prepare(
      `INSERT INTO ${p}instances (id, workflow, version, key, input, state, output, trace, wake_at, lease_owner, lease_until, lease_token, created_at, updated_at, last_seq, num) VALUES (?, 'migrated', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    );
    insert.run(done, "WO-1", '{"n":1}', "completed", '"done"', null, null, null, 0, 1, T0 - 2000, T0 - 1500, 1);
    insert.run(midRun, "WO-5", '{"n":5}', "running", null, JSON.stringify(entries[0]!.trace), T0 - 1000, "dead-worker", T0 - 1, 1, T0 - 1000, T0 - 800, 5);
    const log = db.prepare(`INSERT INTO ${p}log (num, seq, entry) VALUES (?, ?, ?)`);
    log.run(1, 1, JSON.stringify({ type: "started", at: T0 - 2000, version: 1, input: { n: 1 } }));
    log.run(1, 2, JSON.stringify({ type: "completed", at: T0 - 1500, output: "done" }));
    entries.forEach((entry, i) => log.run(5, i + 1, JSON.stringify(entry)));
    // Log rows of an instance row someone deleted by hand: its number is never given again.
    log.run(7, 1, JSON.stringify({ type: "started", at: T0 - 3000, version: 1, input: { n: 7 } }));

    const peer = new CountingPeer();
    const wf = defineWorkflow({
      name: "migrated",
      version: 1,
      run: async (wf, input: { n: number }) => {
        await wf.step("reserve", (ctx) => (peer.apply("reserve", ctx.idempotencyKey), { reserved: input.n * 2 }));
        await wf.step("dispatch", (ctx) => (peer.apply("dispatch", ctx.idempotencyKey), { dispatched: input.n }));
        return "done";
      },
    });
    const store = createSqliteWorkflowStore(db);
    const columns = db.prepare(`PRAGMA table_info(${p}instances)`).all() as { name: string; pk: number }[];
    expect(columns.filter((c) => c.pk > 0).map((c) => c.name)).toEqual(["num"]);
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`).all(`${p}instances`) as { name: string }[]).map((r) => r.name);
    expect(indexes).toEqual([`${p}instances_created_at`, `${p}instances_id`, `${p}instances_wake`]);
    expect(db.prepare(`SELECT id, num FROM ${p}instances ORDER BY num`).all()).toEqual([
      { id: done, num: 1 },
      { id: midRun, num: 5 },
    ]);
    expect((await store.load(midRun))?.history).toEqual(entries.map((entry, i) => ({ ...entry, seq: i + 1 })));
    expect((await store.load(done))?.instance).toMatchObject({ state: "completed", output: "done", createdAt: T0 - 2000 });
    // A second store on the file (another process starting) finds it done and changes nothing.
    createSqliteWorkflowStore(connect());
    expect(db.prepare(`SELECT COUNT(*) AS n FROM ${p}instances`).get()).toEqual({ n: 2 });

    const runtime = createWorkflowRuntime({ store, workflows: [wf], clock: manualClock(T0), logger: captureLogger(), workerId: "new-worker" });
    const fresh = (await runtime.start(wf, "WO-8", { n: 8 }))._unsafeUnwrap();
    expect(db.prepare(`SELECT num FROM ${p}instances WHERE id = ?`).get(fresh.id)).toEqual({ num: 8 });
    expect((await runtime.runDue())._unsafeUnwrap()).toBe(2);
    const resumed = await store.load(midRun);
    expect(resumed?.instance.state).toBe("completed");
    expect(resumed?.history.slice(0, 3)).toEqual(entries.map((entry, i) => ({ ...entry, seq: i + 1 })));
    expect(resumed?.history.map((h) => [h.seq, h.type]).slice(3)).toEqual([
      [4, "step-started"],
      [5, "step-completed"],
      [6, "completed"],
    ]);
    const calls = (action: string) => peer.calls.filter((c) => c.action === action).length;
    expect(calls("reserve")).toBe(1);
    expect(calls("dispatch")).toBe(2);
    // The new instance's started entry is its row's (no log row), first, once; the orphan rows stay apart.
    const created = await store.load(fresh.id);
    expect(created?.history.map((h) => [h.seq, h.type])).toEqual([
      [1, "started"],
      [2, "step-started"],
      [3, "step-completed"],
      [4, "step-started"],
      [5, "step-completed"],
      [6, "completed"],
    ]);
    expect(created?.history[0]).toEqual({ type: "started", at: T0, version: 1, input: { n: 8 }, seq: 1 });
    expect(db.prepare(`SELECT COUNT(*) AS n FROM ${p}log WHERE num = 8 AND seq = 1`).get()).toEqual({ n: 0 });
    expect(db.prepare(`SELECT COUNT(*) AS n FROM ${p}log WHERE num = 7`).get()).toEqual({ n: 1 });
    expect(await store.countByState()).toEqual({ completed: 3 });
  });

  it("writes the log alone on a step commit (the instance row is read for the fence, not written), and groups the steps of instances running at once in one commit", async () => {
    const wf = defineWorkflow({
      name: "pages",
      version: 1,
      run: async (wf, input: { n: number }) => {
        await wf.step("reserve", () => ({ reserved: input.n * 2, at: "A-01" }));
        await wf.step("dispatch", () => ({ dispatched: `order-${input.n}`, lines: [input.n, input.n + 1] }));
        await wf.step("stage", () => ({ staged: true, quantity: { value: String(input.n), unit: "H87" } }));
        return null;
      },
    });
    const instances = 200;
    const measure = async (concurrency: number) => {
      const db = connect(`pages-${concurrency}.db`);
      db.exec("PRAGMA wal_autocheckpoint = 0");
      const store = createSqliteWorkflowStore(db);
      const runtime = createWorkflowRuntime({ store, workflows: [wf], logger: captureLogger(), workerId: "pages", concurrency });
      const before = walFrames(join(dir, `pages-${concurrency}.db-wal`));
      for (let n = 0; n < instances; n++) (await runtime.start(wf, `order-${n}`, { n }))._unsafeUnwrap();
      const started = walFrames(join(dir, `pages-${concurrency}.db-wal`));
      // A start commits alone: the instance row appended at the end of its table, its UUID, due-time
      // and creation index entries (no log row: the started entry is the row's). 6.1 pages when
      // instances were keyed by their UUID and the started entry went to the log.
      expect(started.commits - before.commits).toBe(instances);
      expect((started.frames - before.frames) / instances).toBeLessThan(5.2);
      expect((await runtime.runDue())._unsafeUnwrap()).toBe(instances);
      const ended = walFrames(join(dir, `pages-${concurrency}.db-wal`));
      expect(await store.countByState()).toEqual({ completed: instances });
      const commits = ended.commits - started.commits;
      return { commits, perCommit: (ended.frames - started.frames) / commits, perStep: (ended.frames - started.frames) / (3 * instances) };
    };
    // One at a time: a claim and three step commits per instance, about 2.5 pages each (3.7 when
    // every step commit also wrote the instance row, 4.7 with the 0.1 layout).
    const alone = await measure(1);
    expect(alone.commits).toBeGreaterThanOrEqual(3 * instances);
    expect(alone.perCommit).toBeLessThan(3);
    // Eight at a time: their step records share commits (about one per eight steps), about one page per step.
    const grouped = await measure(8);
    expect(grouped.commits).toBeLessThanOrEqual(instances);
    expect(grouped.perStep).toBeLessThan(1.5);
  }, 30_000);

  it("fences each write of a group commit on its own: a lost lease or a failing write is that write's outcome alone", async () => {
    const db = connect("group.db");
    const store = createSqliteWorkflowStore(db);
    const T0 = 1_700_000_000_000;
    const ids = ["a", "b", "c"].map((key) => instanceIdOf("group", key));
    for (const [i, id] of ids.entries()) await store.createInstance({ id, workflow: "group", version: 1, key: ["a", "b", "c"][i]!, input: null, deadlineAt: null, now: T0 });
    const claims = await store.claimDue({ workerId: "w1", now: T0, leaseMs: 60_000, limit: 3 });
    expect(claims).toHaveLength(3);
    const lease = (id: string) => claims.find((c) => c.lease.instanceId === id)!.lease;
    const entry = (step: string) => ({ type: "step-started" as const, at: T0 + 1, step, attempt: 1 });
    // Issued in one turn: one commit holds them, each checked against its own lease.
    const [ok, stale, failing] = await Promise.allSettled([
      store.appendHistory(lease(ids[0]!), [entry("one")], { state: "running" }, T0 + 1),
      store.appendHistory({ ...lease(ids[1]!), token: lease(ids[1]!).token - 1 }, [entry("two")], { state: "running" }, T0 + 1),
      // A result that is not JSON makes the write throw in the middle of the group.
      store.appendHistory(lease(ids[2]!), [{ ...entry("three"), attempt: 10n as unknown as number }], { state: "running" }, T0 + 1),
    ]);
    expect(ok).toEqual({ status: "fulfilled", value: { ok: true, lastSeq: 2 } });
    expect(stale).toEqual({ status: "fulfilled", value: { ok: false, code: "lease_lost", owner: "w1" } });
    expect(failing.status).toBe("rejected");
    const histories = await Promise.all(ids.map(async (id) => (await store.load(id))!.history.map((h) => h.type)));
    expect(histories).toEqual([["started", "step-started"], ["started"], ["started"]]);
  });
});
