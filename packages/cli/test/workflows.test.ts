// `millwright workflows …` against real stores: a SQLite file and a PostgreSQL database, with
// instances made and run by the real runtime, requests given through the real command (a child
// process), and effects counted at an in-process peer that applies each idempotency key once.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkflowRuntime, defineWorkflow, instanceIdOf, type WorkflowLogger, type WorkflowRuntime, type WorkflowStore } from "@millwright/workflows";
import { createPostgresWorkflowStore, migrateWorkflowPostgres } from "@millwright/workflows/postgres";
import { createSqliteWorkflowStore, openSqliteDatabase, type OpenedSqliteDatabase } from "@millwright/workflows/sqlite";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, test } from "vitest";
import { millwright } from "./run-cli.js";

/** A peer (an ERP, a WMS) that applies each effect once per idempotency key and counts every call. */
class Peer {
  readonly calls: string[] = [];
  readonly applied = new Map<string, number>();
  /** Instance keys whose `unreserve` compensation fails for good (a thrown exception is permanent). */
  readonly failUnreserve = new Set<string>();
  apply(action: string, key: string): void {
    this.calls.push(action);
    const id = `${action}:${key}`;
    if (!this.applied.has(id)) this.applied.set(id, this.calls.length);
  }
  count(action: string): number {
    return [...this.applied.keys()].filter((k) => k.startsWith(`${action}:`)).length;
  }
}

let peer = new Peer();
const SILENT: WorkflowLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

// reserve (compensated by unreserve) → a planner's approval → dispatch.
const release = defineWorkflow<{ readonly order: string }, string>({
  name: "cli-release",
  version: 1,
  run: async (wf) => {
    await wf.step("reserve", (ctx) => void peer.apply("reserve", ctx.idempotencyKey), {
      compensate: (ctx) => {
        if (peer.failUnreserve.has(ctx.key)) throw new Error("the WMS refused the unreserve");
        peer.apply("unreserve", ctx.idempotencyKey);
      },
    });
    await wf.waitForSignal("planner-approval", { timeout: "2h" });
    await wf.step("dispatch", (ctx) => void peer.apply("dispatch", ctx.idempotencyKey));
    return "dispatched";
  },
});

const runtimeOn = (store: WorkflowStore, workerId: string): WorkflowRuntime =>
  createWorkflowRuntime({ store, workflows: [release], logger: SILENT, workerId, pollMs: 20, leaseMs: 5_000 });

async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const stateOf = async (runtime: WorkflowRuntime, id: string): Promise<string> => (await runtime.get(id))._unsafeUnwrap().instance.state;

// Each run of the command is a Node process (about 3 s of CPU, far more on a loaded machine): generous timeouts.
describe("millwright workflows on a SQLite file", { timeout: 600_000 }, () => {
  let dir: string;
  let file: string;
  let db: OpenedSqliteDatabase;
  let runtime: WorkflowRuntime;
  beforeEach(() => {
    peer = new Peer();
    dir = mkdtempSync(join(tmpdir(), "millwright-cli-wf-"));
    file = join(dir, "wf.sqlite");
    db = openSqliteDatabase(file)._unsafeUnwrap();
    runtime = runtimeOn(createSqliteWorkflowStore(db), "test-worker");
  });
  afterEach(async () => {
    await runtime.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startWaiting(key: string): Promise<string> {
    const ref = (await runtime.start(release, key, { order: key }))._unsafeUnwrap();
    await runtime.runDue();
    expect(await stateOf(runtime, ref.id)).toBe("waiting");
    return ref.id;
  }

  test("list and show: the instances, then one instance's timeline with its open wait and due time", async () => {
    const a = await startWaiting("WO-1");
    const b = await startWaiting("WO-2");
    // Independent runs of the command, side by side: each one starts a Node process.
    const [listed, json, none, shown, byKey] = await Promise.all([
      millwright(["workflows", "list", "--store", file]),
      millwright(["workflows", "list", "--store", file, "--state", "waiting", "--format", "json"]),
      millwright(["workflows", "list", "--store", file, "--state", "completed", "--format", "json"]),
      millwright(["workflows", "show", "--store", file, a]),
      millwright(["workflows", "show", "--store", file, "--workflow", "cli-release", "--key", "WO-1", "--format", "json"]),
    ]);
    expect([listed.code, listed.stderr]).toEqual([0, ""]);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +WORKFLOW +KEY +STATE +NEXT DUE \(UTC\) +UPDATED \(UTC\)$/);
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 5))).toEqual([
      [b, "cli-release", "v1", "WO-2", "waiting"],
      [a, "cli-release", "v1", "WO-1", "waiting"],
    ]);
    expect(lines[1]).toMatch(/ waiting +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z /);

    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { id: string; state: string }[]).map((i) => [i.id, i.state])).toEqual([
      [b, "waiting"],
      [a, "waiting"],
    ]);
    expect(JSON.parse(none.stdout)).toEqual([]);

    expect([shown.code, shown.stderr]).toEqual([0, ""]);
    const snapshot = (await runtime.get(a))._unsafeUnwrap();
    const wait = snapshot.history.find((e) => e.type === "wait-started");
    if (wait?.type !== "wait-started" || wait.dueAt === undefined) throw new Error("no wait with a due time in the history");
    const due = new Date(wait.dueAt).toISOString().replace("T", " ");
    expect(shown.stdout).toContain(`Instance  ${a}\nWorkflow  cli-release v1, key WO-1\nState     waiting, next due ${due}`);
    expect(shown.stdout).toContain(`Waiting\n  planner-approval-1: signal planner-approval times out at ${due}\n`);
    expect(shown.stdout).toMatch(/^ {2}1 {2}\S+ \S+ {2}\+0 ms +started +version 1, input \{"order":"WO-1"\}$/m);
    expect(shown.stdout).toMatch(/^ {2}2 .* step-started +reserve, attempt 1$/m);
    expect(shown.stdout).toMatch(/^ {2}3 .* step-completed +reserve, attempt 1, \d+ ms → null$/m);
    expect(shown.stdout).toMatch(new RegExp(`^ {2}4 .* wait-started +planner-approval-1: signal planner-approval times out at ${due.replace(/[.]/g, "\\.")}$`, "m"));

    // The same instance named by workflow and key; JSON is the snapshot.
    expect(byKey.code).toBe(0);
    expect(JSON.parse(byKey.stdout)).toEqual(JSON.parse(JSON.stringify(snapshot)));
    expect(instanceIdOf("cli-release", "WO-1")).toBe(a);
  });

  test("signal approve from the CLI: the running worker resumes the instance and dispatches once", async () => {
    const id = await startWaiting("WO-3");
    runtime.startWorker();
    const r = await millwright(["workflows", "signal", "--store", file, id, "planner-approval", "--decision", "approve", "--by", "j.doe", "--reason", "stock checked"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(new RegExp(`^signal: stored for ${id} \\(now (waiting|running|completed)\\); a worker acts on it`));
    await eventually(async () => (await stateOf(runtime, id)) === "completed", "the worker to complete the instance");
    expect([peer.count("reserve"), peer.count("dispatch"), peer.count("unreserve")]).toEqual([1, 1, 0]);
    expect(peer.calls).toEqual(["reserve", "dispatch"]);

    const [shown, late] = await Promise.all([
      millwright(["workflows", "show", "--store", file, id]),
      millwright(["workflows", "signal", "--store", file, id, "planner-approval", "--decision", "reject"]),
    ]);
    expect(shown.stdout).toMatch(/signal-received +planner-approval: approve by j\.doe: stock checked$/m);
    expect(shown.stdout).toMatch(/wait-ended +planner-approval-1: signal planner-approval: approve by j\.doe: stock checked$/m);
    expect(shown.stdout).toMatch(/step-completed +dispatch, attempt 1, \d+ ms → null$/m);
    expect(shown.stdout).toMatch(/completed +output "dispatched"$/m);
    expect(shown.stdout).toContain('Output    "dispatched"');
    // A finished instance takes no signal: exit 1, and nothing more happens at the peer.
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`${id}: error[instance_finished]: workflow instance ${id} is completed: it takes no signal`);
    await runtime.stop();
    expect(peer.calls).toEqual(["reserve", "dispatch"]);
  });

  test("signal reject compensates; cancel compensates; a compensation failing for good is retried from the CLI", async () => {
    const rejected = await startWaiting("WO-4");
    const cancelled = await startWaiting("WO-5");
    const failing = await startWaiting("WO-6");
    peer.failUnreserve.add("WO-6");

    const [r, c, f] = await Promise.all([
      millwright(["workflows", "signal", "--store", file, rejected, "planner-approval", "--decision", "reject", "--reason", "components short", "--format", "json"]),
      millwright(["workflows", "cancel", "--store", file, cancelled, "--reason", "order withdrawn"]),
      millwright(["workflows", "cancel", "--store", file, failing, "--reason", "test"]),
    ]);
    expect(r.stdout).toContain('"request":"signal","signal":"planner-approval","payload":{"decision":"reject","reason":"components short"},"stored":true');
    expect([r.code, c.code, f.code, c.stderr]).toEqual([0, 0, 0, ""]);
    await runtime.runDue();
    expect([await stateOf(runtime, rejected), await stateOf(runtime, cancelled), await stateOf(runtime, failing)]).toEqual(["compensated", "cancelled", "failed"]);
    expect([peer.count("reserve"), peer.count("unreserve"), peer.count("dispatch")]).toEqual([3, 2, 0]);

    const [shownRejected, shownCancelled, failedShown, listedFailed, notFailed] = await Promise.all([
      millwright(["workflows", "show", "--store", file, rejected]),
      millwright(["workflows", "show", "--store", file, cancelled]),
      millwright(["workflows", "show", "--store", file, failing]),
      millwright(["workflows", "list", "--store", file, "--state", "failed"]),
      millwright(["workflows", "retry", "--store", file, rejected]),
    ]);
    expect(shownRejected.stdout).toMatch(/compensating +signal planner-approval rejected: components short$/m);
    expect(shownRejected.stdout).toMatch(/compensation-started +reserve, attempt 1\n.*compensation-completed +reserve, attempt 1\n.*compensated$/m);
    expect(shownCancelled.stdout).toMatch(/compensating +cancelled: order withdrawn$/m);
    expect(shownCancelled.stdout).toMatch(/cancelled +order withdrawn$/m);
    // The unreserve of WO-6 failed for good: the instance is failed (a dead letter).
    expect(failedShown.stdout).toMatch(/compensation-failed +reserve, attempt 1: error\[exception\] .*the WMS refused the unreserve.*; for good$/m);
    expect(failedShown.stdout).toMatch(/failed +the compensation of reserve failed for good: error\[exception\] .* \(in the dead letters\)$/m);
    expect(failedShown.stdout).toMatch(/^Failure {3}error\[exception\]/m);
    expect(listedFailed.stdout).toContain(failing);
    expect(listedFailed.stdout.trimEnd().split("\n")).toHaveLength(2);
    // retry refuses an instance that is not failed (exit 1) …
    expect(notFailed.code).toBe(1);
    expect(notFailed.stderr).toContain(`error[invalid_state]: workflow instance ${rejected} is compensated: only a failed instance can be retried`);

    // … and takes the failed one once its cause is fixed: the compensation runs again, once at the peer.
    peer.failUnreserve.clear();
    const retried = await millwright(["workflows", "retry", "--store", file, failing]);
    expect([retried.code, retried.stderr]).toEqual([0, ""]);
    await runtime.runDue();
    expect(await stateOf(runtime, failing)).toBe("cancelled");
    expect([peer.count("reserve"), peer.count("unreserve"), peer.count("dispatch")]).toEqual([3, 3, 0]);
    expect((await millwright(["workflows", "show", "--store", file, failing])).stdout).toMatch(/retried\n(.*\n)*.*compensation-completed +reserve, attempt 1\n.*cancelled +test$/m);
  });

  test("unknown instances, names and values: exit 1 or usage errors with did-you-mean, and no signal stored", async () => {
    const id = await startWaiting("WO-7");
    const missing = "00000000-0000-5000-8000-000000000000";
    const nowhere = join(dir, "typo.sqlite");
    const other = join(dir, "other.sqlite");
    writeFileSync(other, "");
    const [notFound, cancelMissing, typo, decision, option, noReason, state, noStore, odd, absent, notStore] = await Promise.all([
      millwright(["workflows", "show", "--store", file, missing]),
      millwright(["workflows", "cancel", "--store", file, missing, "--reason", "x"]),
      millwright(["workflows", "shwo", "--store", file, id]),
      millwright(["workflows", "signal", "--store", file, id, "planner-approval", "--decision", "aprove"]),
      millwright(["workflows", "signal", "--store", file, id, "planner-approval", "--desicion", "approve"]),
      millwright(["workflows", "cancel", "--store", file, id]),
      millwright(["workflows", "list", "--store", file, "--state", "wating"]),
      millwright(["workflows", "list"]),
      // A signal name no wait asks for is stored (a wait may start later), with a warning naming the close one.
      millwright(["workflows", "signal", "--store", file, id, "planner-aproval", "--decision", "approve"]),
      // Store problems: a missing file is not created, a file without the tables is not a store.
      millwright(["workflows", "list", "--store", nowhere]),
      millwright(["workflows", "list", "--store", other]),
    ]);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toBe(`${missing}: error[instance_not_found]: no workflow instance "${missing}"\n`);
    expect(cancelMissing.code).toBe(1);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe(
      'millwright: error[usage]: workflows has no subcommand "shwo"; did you mean "show"?; one of list, show, signal, retry, cancel\nRun `millwright workflows --help` for its options.\n',
    );
    expect(decision.code).toBe(2);
    expect(decision.stderr).toContain('--decision must be approve or reject, not "aprove"; did you mean "approve"?');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('workflows signal has no option "--desicion"; did you mean "--decision"?');
    expect(option.stderr).toContain("Run `millwright workflows signal --help` for its options.");
    expect([noReason.code, state.code, noStore.code]).toEqual([2, 2, 2]);
    expect(noReason.stderr).toContain("workflows cancel needs --reason <text>");
    expect(state.stderr).toContain('did you mean "waiting"?');
    expect(noStore.stderr).toContain("workflows list needs --store <file|url>");
    const fromEnv = await millwright(["workflows", "list"], undefined, { MILLWRIGHT_WORKFLOWS_STORE: file });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(id);

    expect(odd.code).toBe(0);
    expect(odd.stderr).toContain(`instance ${id} is not waiting for the signal "planner-aproval"; did you mean "planner-approval"?`);
    expect((await runtime.get(id))._unsafeUnwrap().signals.map((s) => s.name)).toEqual(["planner-aproval"]);
    await runtime.runDue();
    expect(await stateOf(runtime, id)).toBe("waiting");
    expect(peer.calls).toEqual(["reserve"]);

    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(`${nowhere}: error[unreadable_input]: cannot be read: no such file`);
    expect(notStore.code).toBe(2);
    expect(notStore.stderr).toContain(`${other}: error[not_a_workflow_store]: has no table millwright_wf_instances`);
  });

  test("--help for the group and each subcommand", async () => {
    const subs = ["list", "show", "signal", "retry", "cancel"];
    const [group, word, none, ...helps] = await Promise.all([
      millwright(["workflows", "--help"]),
      millwright(["help", "workflows"]),
      millwright(["workflows"]),
      ...subs.map((sub) => millwright(["workflows", sub, "--frobnicate", "-h"])),
      ...subs.map((sub) => millwright(["workflows", "help", sub])),
    ]);
    expect([group.code, group.stderr]).toEqual([0, ""]);
    expect(group.stdout).toContain("Usage: millwright workflows <list|show|signal|retry|cancel> --store <file|url> [options]");
    expect(word.stdout).toBe(group.stdout);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("workflows needs a subcommand: list, show, signal, retry, cancel");
    subs.forEach((sub, i) => {
      const help = helps[i] as { code: number; stdout: string; stderr: string };
      expect([help.code, help.stderr]).toEqual([0, ""]);
      expect(help.stdout).toMatch(new RegExp(`^Usage: millwright workflows ${sub} --store <file\\|url>`));
      expect(help.stdout).toContain("Exit codes:");
      expect(helps[i + subs.length]?.stdout).toBe(help.stdout);
    });
  });
});

describe("millwright workflows on PostgreSQL", { timeout: 600_000 }, () => {
  const admin = { host: process.env["MILLWRIGHT_PG_HOST"] ?? "127.0.0.1", port: Number(process.env["MILLWRIGHT_PG_PORT"] ?? 5432), user: process.env["MILLWRIGHT_PG_USER"] ?? "postgres", password: process.env["MILLWRIGHT_PG_PASSWORD"] ?? "" };
  const databases: string[] = [];
  async function adminQuery(sql: string): Promise<void> {
    const client = new pg.Client({ ...admin, database: "postgres", connectionTimeoutMillis: 5000 });
    await client.connect().catch((cause: unknown) => {
      throw new Error(`PostgreSQL is not reachable at ${admin.user}@${admin.host}:${admin.port} (set MILLWRIGHT_PG_*): ${String(cause)}`);
    });
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
  afterAll(async () => {
    for (const name of databases) await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  test("list, show, signal and cancel through a postgres:// URL while a worker runs; the password never printed", async () => {
    peer = new Peer();
    const name = `millwright_cli_wf_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
    await adminQuery(`CREATE DATABASE ${name}`);
    databases.push(name);
    const url = `postgresql://${encodeURIComponent(admin.user)}${admin.password === "" ? "" : `:${encodeURIComponent(admin.password)}`}@${admin.host}:${admin.port}/${name}`;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on("error", () => undefined);
    const runtime = runtimeOn(createPostgresWorkflowStore(pool), "pg-worker");
    try {
      // Before the migration the database is not a workflow store: said, not created.
      const empty = await millwright(["workflows", "list", "--store", url]);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain("error[not_a_workflow_store]: has no table millwright_wf_instances");
      await migrateWorkflowPostgres(pool);

      const approve = (await runtime.start(release, "PG-1", { order: "PG-1" }))._unsafeUnwrap().id;
      const cancel = (await runtime.start(release, "PG-2", { order: "PG-2" }))._unsafeUnwrap().id;
      runtime.startWorker();
      await eventually(async () => (await stateOf(runtime, approve)) === "waiting" && (await stateOf(runtime, cancel)) === "waiting", "both instances to wait");

      const [listed, shown] = await Promise.all([
        millwright(["workflows", "list", "--store", url, "--workflow", "cli-release", "--format", "json"]),
        millwright(["workflows", "show", "--store", url, approve]),
      ]);
      expect([listed.code, listed.stderr]).toEqual([0, ""]);
      expect((JSON.parse(listed.stdout) as { id: string; state: string }[]).map((i) => i.state)).toEqual(["waiting", "waiting"]);
      expect(shown.stdout).toMatch(/wait-started +planner-approval-1: signal planner-approval times out at \d{4}-/m);

      const [s, c] = await Promise.all([
        millwright(["workflows", "signal", "--store", url, approve, "planner-approval", "--decision", "approve", "--by", "planner"]),
        millwright(["workflows", "cancel", "--store", url, cancel, "--reason", "withdrawn"]),
      ]);
      expect([s.code, s.stderr]).toEqual([0, ""]);
      expect([c.code, c.stderr]).toEqual([0, ""]);
      await eventually(async () => (await stateOf(runtime, approve)) === "completed" && (await stateOf(runtime, cancel)) === "cancelled", "the worker to act on the signal and the cancel");
      expect([peer.count("reserve"), peer.count("dispatch"), peer.count("unreserve")]).toEqual([2, 1, 1]);
      expect(peer.calls.filter((c) => c !== "reserve").sort()).toEqual(["dispatch", "unreserve"]);

      const [after, wrong] = await Promise.all([
        millwright(["workflows", "list", "--store", url, "--state", "cancelled"]),
        // A bad password: the error names the URL with the password hidden.
        millwright(["workflows", "list", "--store", `postgresql://nobody:s3cret-pw@${admin.host}:${admin.port}/${name}`]),
      ]);
      expect(after.stdout).toContain(cancel);
      expect(after.stdout).not.toContain(approve);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain(`postgresql://nobody:***@${admin.host}:${admin.port}/${name}: error[unreadable_input]`);
      expect(wrong.stderr).not.toContain("s3cret-pw");
    } finally {
      await runtime.stop();
      await pool.end();
    }
  });
});
