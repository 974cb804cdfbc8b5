// `millwright workflows list | show | signal | retry | cancel`: operate workflow instances in a
// SQLite file or a PostgreSQL database. Requests go through the runtime's own API (a runtime with
// no definitions: signal, cancel and retry are store writes that a worker picks up), so the CLI
// never needs the workflows' code.
import { existsSync, statSync } from "node:fs";
import {
  createWorkflowRuntime,
  FINAL_STATES,
  instanceIdOf,
  NAME_PATTERN,
  type HistoryEntry,
  type InstanceRecord,
  type InstanceSnapshot,
  type InstanceState,
  type JsonValue,
  type WorkflowError,
  type WorkflowLogger,
  type WorkflowRuntime,
  type WorkflowStore,
} from "@millwright/workflows";
import { err, ok, type Result } from "neverthrow";
import { diagnostic } from "./diagnostic.js";
import { commandHelp, oneOf, readArgs, type CommandSpec, type OptionSpec } from "./help.js";
import { didYouMean } from "./suggest.js";
import { boundText } from "./text.js";

/** Where the command writes: results to `out`, diagnostics to `err`; `usage` prints a usage error and returns 2. */
export interface WorkflowsIo {
  readonly out: (line: string) => Promise<void>;
  readonly err: (line: string) => void;
  readonly usage: (problem: string, command: string) => number;
  /** Where the default store, `MILLWRIGHT_WORKFLOWS_STORE`, is read (the process's environment unless given). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const STATES: readonly InstanceState[] = ["running", "waiting", "completed", "compensating", "compensated", "failed", "cancelled"];
const DEFAULT_PREFIX = "millwright_wf_";
const STORE_ENV = "MILLWRIGHT_WORKFLOWS_STORE";

const STORE: OptionSpec = {
  name: "store",
  type: "string",
  value: "<file|url>",
  description: `a SQLite file, or a postgres:// URL (default: $${STORE_ENV})`,
};
const PREFIX: OptionSpec = { name: "table-prefix", type: "string", value: "<prefix>", description: "the prefix of the store's tables", default: DEFAULT_PREFIX };
const FORMAT: OptionSpec = { name: "format", type: "string", value: "text|json", description: "print text for people or JSON for tools", default: "text" };
const BY_KEY: readonly OptionSpec[] = [
  { name: "workflow", type: "string", value: "<name>", description: "with --key: name the instance by its workflow and key instead of <id>" },
  { name: "key", type: "string", value: "<key>", description: "with --workflow: the instance key (such as the hold id)" },
];
const REQUEST_EXITS: readonly [string, string, string] = [
  "the request is stored; a worker acts on it",
  "no such instance, or it does not take the request (finished, or not failed)",
  "usage error, or the store cannot be opened or read",
];

/** The subcommands of `millwright workflows`, each with its own help. */
const workflowCommands: readonly CommandSpec[] = [
  {
    name: "list",
    synopsis: "millwright workflows list --store <file|url> [options]",
    summary: "list instances, newest first",
    description: "List workflow instances, newest first: id, workflow and version, key, state, when it is next due, and the last change.",
    options: [
      STORE,
      { name: "state", type: "string", value: "<state>", description: `only instances in this state (${STATES.join(", ")})` },
      { name: "workflow", type: "string", value: "<name>", description: "only instances of this workflow" },
      { name: "limit", type: "string", value: "<n>", description: "at most this many", default: "100" },
      PREFIX,
      FORMAT,
    ],
    examples: ["millwright workflows list --store ./wf.sqlite", "millwright workflows list --store postgres://app@db/plant --state failed --format json"],
    exits: ["the instances were listed", "(not used)", "usage error, or the store cannot be opened or read"],
  },
  {
    name: "show",
    synopsis: "millwright workflows show --store <file|url> [options] <id>",
    summary: "print an instance and its history as a timeline",
    description: [
      "Print one instance: its state, input, output or failure, open waits with their due times and",
      "pending signals, then its history as a timeline (UTC): steps with attempts, results and",
      "errors, waits, signals, deadlines, compensations and the end.",
    ].join("\n"),
    options: [STORE, ...BY_KEY, PREFIX, FORMAT],
    examples: ["millwright workflows show --store ./wf.sqlite 6f1c2e0a-…", "millwright workflows show --store ./wf.sqlite --workflow quality-hold --key QH-1001"],
    exits: ["the instance was printed", "no such instance", "usage error, or the store cannot be opened or read"],
  },
  {
    name: "signal",
    synopsis: "millwright workflows signal --store <file|url> --decision approve|reject [options] <id> <name>",
    summary: "give a person's decision to an instance waiting for a signal",
    description: [
      "Deliver a decision (approve or reject, with a reason and who decided) to an instance. A wait",
      "for the signal takes it now or when it starts; a rejection compensates the instance unless",
      "the workflow handles it.",
    ].join("\n"),
    options: [
      STORE,
      { name: "decision", type: "string", value: "approve|reject", description: "the decision (required)" },
      { name: "reason", type: "string", value: "<text>", description: "why, kept in the history" },
      { name: "by", type: "string", value: "<name>", description: "who decided, kept in the history" },
      ...BY_KEY,
      PREFIX,
      FORMAT,
    ],
    examples: [
      'millwright workflows signal --store ./wf.sqlite 6f1c2e0a-… planner-approval --decision approve --by "j.doe"',
      'millwright workflows signal --store ./wf.sqlite 6f1c2e0a-… planner-approval --decision reject --reason "components short"',
    ],
    exits: REQUEST_EXITS,
  },
  {
    name: "retry",
    synopsis: "millwright workflows retry --store <file|url> [options] <id>",
    summary: "run a failed (dead-lettered) instance's compensations again",
    description: "Ask a worker to run the compensations of a failed instance (one in the dead letters) again, once its cause is fixed.",
    options: [STORE, ...BY_KEY, PREFIX, FORMAT],
    examples: ["millwright workflows retry --store postgres://app@db/plant 6f1c2e0a-…"],
    exits: REQUEST_EXITS,
  },
  {
    name: "cancel",
    synopsis: "millwright workflows cancel --store <file|url> --reason <text> [options] <id>",
    summary: "cancel an instance: compensate its completed steps",
    description: "Ask a worker to cancel an instance: the compensations of its completed steps run in reverse order, then it is cancelled.",
    options: [STORE, { name: "reason", type: "string", value: "<text>", description: "why, kept in the history (required)" }, ...BY_KEY, PREFIX, FORMAT],
    examples: ['millwright workflows cancel --store ./wf.sqlite 6f1c2e0a-… --reason "hold placed in error"'],
    exits: REQUEST_EXITS,
  },
];

/** The names of the subcommands, for "did you mean". */
const workflowCommandNames: readonly string[] = workflowCommands.map((c) => c.name);

/** A store opened for the command, with how to close it. */
interface OpenedStore {
  readonly store: WorkflowStore;
  close(): Promise<void>;
}

/** Why the store cannot be used: where (the file, or the URL without its password) and what. */
interface StoreProblem {
  readonly where: string;
  readonly code: string;
  readonly message: string;
}

/**
 * A PostgreSQL URL with its password replaced by `***`, for messages.
 *
 * @param url - the URL as given
 * @returns the URL safe to print
 * @example
 * redactUrl("postgres://app:secret@db/plant"); // "postgres://app:***@db/plant"
 */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]*):[^@]*@/, "://$1:***@");
  }
}

const isPostgresUrl = (store: string): boolean => /^postgres(ql)?:\/\//i.test(store);

/**
 * Opens the workflow store a `--store` value names: a PostgreSQL database (`postgres://` or
 * `postgresql://`) or an existing SQLite file. Never creates a store: a missing file, or a database
 * without the store's tables, is a problem (a typo must not make an empty store).
 *
 * @param location - the `--store` value
 * @param tablePrefix - the prefix of the store's tables
 * @returns the opened store, or the problem
 * @example
 * const opened = await openWorkflowStore("./wf.sqlite", "millwright_wf_");
 */
async function openWorkflowStore(location: string, tablePrefix: string): Promise<Result<OpenedStore, StoreProblem>> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(tablePrefix)) {
    return err({ where: "millwright", code: "usage", message: `--table-prefix ${JSON.stringify(tablePrefix)} is not a table prefix: [a-z_][a-z0-9_]*, at most 41 characters` });
  }
  return isPostgresUrl(location) ? openPostgres(location, tablePrefix) : openSqlite(location, tablePrefix);
}

async function openSqlite(file: string, prefix: string): Promise<Result<OpenedStore, StoreProblem>> {
  if (!existsSync(file)) return err({ where: file, code: "unreadable_input", message: "cannot be read: no such file (give the SQLite file the workers use, or a postgres:// URL)" });
  if (!statSync(file).isFile()) return err({ where: file, code: "unreadable_input", message: "cannot be read: not a file" });
  const { createSqliteWorkflowStore, openSqliteDatabase } = await import("@millwright/workflows/sqlite");
  const opened = openSqliteDatabase(file);
  if (opened.isErr()) return err({ where: file, code: "unreadable_input", message: `cannot be opened: ${opened.error.message}` });
  const db = opened.value;
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").all(`${prefix}instances`);
    if (table.length === 0) {
      db.close();
      return err({ where: file, code: "not_a_workflow_store", message: `has no table ${prefix}instances: it is not a workflow store (or its tables have another --table-prefix)` });
    }
    // wal: false — the journal mode is the workers' choice (they set WAL); the command leaves it as it is.
    return ok({ store: createSqliteWorkflowStore(db, { tablePrefix: prefix, wal: false }), close: () => Promise.resolve(db.close()) });
  } catch (cause) {
    db.close();
    return err({ where: file, code: "unreadable_input", message: `cannot be read: ${(cause as Error).message}` });
  }
}

async function openPostgres(url: string, prefix: string): Promise<Result<OpenedStore, StoreProblem>> {
  const where = redactUrl(url);
  let Pool: typeof import("pg").Pool;
  try {
    ({ Pool } = (await import("pg")).default);
  } catch {
    return err({ where, code: "missing_driver", message: "the PostgreSQL store needs the pg package: npm i pg" });
  }
  const { createPostgresWorkflowStore } = await import("@millwright/workflows/postgres");
  const pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
  // A dropped idle connection is reported on the pool; the next query reports it to the command.
  pool.on("error", () => undefined);
  try {
    const found = await pool.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [`${prefix}instances`]);
    if (found.rows[0]?.found == null) {
      await pool.end();
      return err({ where, code: "not_a_workflow_store", message: `has no table ${prefix}instances: it is not a workflow store (run migrateWorkflowPostgres, or give its --table-prefix)` });
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    return err({ where, code: "unreadable_input", message: `cannot be read: ${(cause as Error).message}` });
  }
  return ok({ store: createPostgresWorkflowStore(pool, { tablePrefix: prefix }), close: () => pool.end() });
}

// ---- text ----

/**
 * A time as the timeline prints it: UTC, to the millisecond.
 *
 * @param ms - ms since the epoch
 * @returns `2026-03-02 10:30:00.000Z`
 * @example
 * formatTime(Date.UTC(2026, 2, 2, 10, 30)); // "2026-03-02 10:30:00.000Z"
 */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ");
}

/**
 * A duration for people: `850 ms`, `12.5 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`.
 *
 * @param ms - the duration in ms
 * @returns the text
 * @example
 * formatDuration(250_000); // "4 min 10 s"
 */
function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  if (a < 60_000) return `${sign}${Number((a / 1000).toFixed(1))} s`;
  const parts = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    `${sign}${big} ${bigUnit}${small === 0 ? "" : ` ${small} ${smallUnit}`}`;
  if (a < 3_600_000) return parts(Math.floor(a / 60_000), "min", Math.floor((a % 60_000) / 1000), "s");
  if (a < 86_400_000) return parts(Math.floor(a / 3_600_000), "h", Math.floor((a % 3_600_000) / 60_000), "min");
  return parts(Math.floor(a / 86_400_000), "d", Math.floor((a % 86_400_000) / 3_600_000), "h");
}

const json = (value: unknown, max = 200): string => boundText(JSON.stringify(value) ?? "undefined", max);
const failureText = (f: { readonly code: string; readonly message: string }): string => `error[${f.code}] ${boundText(f.message, 400)}`;

function decisionText(payload: unknown): string {
  const p = (payload ?? {}) as { decision?: unknown; reason?: unknown; by?: unknown };
  const decision = typeof p.decision === "string" ? p.decision : json(payload);
  const by = typeof p.by === "string" ? ` by ${boundText(p.by, 100)}` : "";
  const reason = typeof p.reason === "string" ? `: ${boundText(p.reason, 300)}` : "";
  return `${decision}${by}${reason}`;
}

/**
 * What one history entry says, after its time and type.
 *
 * @param entry - the entry
 * @returns the text
 * @example
 * describeEntry({ seq: 2, type: "step-started", at: 0, step: "block-in-erp", attempt: 1 }); // "block-in-erp, attempt 1"
 */
function describeEntry(entry: HistoryEntry): string {
  switch (entry.type) {
    case "started":
      return `version ${entry.version}, input ${json(entry.input)}${entry.trace === undefined ? "" : `, trace ${entry.trace.traceparent}`}`;
    case "step-started":
    case "compensation-started":
      return `${entry.step}, attempt ${entry.attempt}`;
    case "step-completed":
      return `${entry.step}, attempt ${entry.attempt}, ${formatDuration(entry.durationMs)} → ${json(entry.result)}`;
    case "compensation-completed":
      return `${entry.step}, attempt ${entry.attempt}`;
    case "step-failed":
    case "compensation-failed":
      return `${entry.step}, attempt ${entry.attempt}: ${failureText(entry.error)}; ${entry.willRetry ? `retry${entry.retryAt === undefined ? "" : ` at ${formatTime(entry.retryAt)}`}` : "for good"}`;
    case "wait-started": {
      const due = entry.dueAt === undefined ? "" : ` ${entry.kind === "sleep" ? "until" : "times out at"} ${formatTime(entry.dueAt)}`;
      const what = entry.kind === "sleep" ? "sleep" : `${entry.kind} ${entry.target ?? "?"}`;
      return `${entry.wait}: ${what}${due}${entry.kind !== "sleep" && entry.dueAt === undefined ? " (no timeout)" : ""}`;
    }
    case "wait-ended": {
      const o = entry.outcome;
      const how =
        o.kind === "event"
          ? `event ${boundText(String((o.event as { type?: unknown; id?: unknown } | null)?.type ?? ""), 200)} ${boundText(String((o.event as { id?: unknown } | null)?.id ?? ""), 200)}`.trimEnd()
          : o.kind === "signal"
            ? `signal ${o.name}: ${decisionText(o.payload)}`
            : o.kind === "timeout"
              ? "timed out"
              : "elapsed";
      return `${entry.wait}: ${how}`;
    }
    case "signal-received":
      return `${entry.name}: ${entry.name.startsWith("$") ? json(entry.payload) : decisionText(entry.payload)}`;
    case "compensating": {
      const r = entry.reason;
      switch (r.kind) {
        case "step-failed":
          return `step ${r.step} failed for good: ${failureText(r.error)}`;
        case "rejected":
          return `signal ${r.signal} rejected${decisionText(r.payload).replace(/^reject/, "")}`;
        case "cancelled":
          return `cancelled: ${boundText(r.reason, 400)}`;
        case "deadline":
          return `the deadline ${formatTime(r.deadlineAt)} passed`;
        case "error":
          return `the body failed: ${failureText(r.error)}`;
      }
      return json(r);
    }
    case "deadline-passed":
      return `deadline ${formatTime(entry.deadlineAt)}, action ${entry.action}`;
    case "escalated":
      return boundText(entry.reason, 400);
    case "completed":
      return `output ${json(entry.output)}`;
    case "compensated":
    case "retried":
      return "";
    case "cancelled":
      return boundText(entry.reason, 400);
    case "failed":
      return `the compensation of ${entry.step} failed for good: ${failureText(entry.error)} (in the dead letters)`;
  }
  return json(entry);
}

/** The waits of a history that started and have not ended, with their due times. */
function openWaits(history: readonly HistoryEntry[]): Extract<HistoryEntry, { type: "wait-started" }>[] {
  const open = new Map<string, Extract<HistoryEntry, { type: "wait-started" }>>();
  for (const entry of history) {
    if (entry.type === "wait-started") open.set(entry.wait, entry);
    else if (entry.type === "wait-ended") open.delete(entry.wait);
    else if (entry.type === "compensating" || FINAL_STATES.includes(entry.type as InstanceState)) open.clear();
  }
  return [...open.values()];
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "));
}

function dueText(instance: InstanceRecord): string {
  if (instance.wakeAt === null) return FINAL_STATES.includes(instance.state) ? "—" : "on event/signal";
  return formatTime(instance.wakeAt);
}

/**
 * The instances as a table, one line each, with a header.
 *
 * @param instances - the instances
 * @returns the lines
 * @example
 * renderInstanceList(await store.list());
 */
function renderInstanceList(instances: readonly InstanceRecord[]): string[] {
  if (instances.length === 0) return ["no instances"];
  return table([
    ["ID", "WORKFLOW", "KEY", "STATE", "NEXT DUE (UTC)", "UPDATED (UTC)"],
    ...instances.map((i) => [i.id, `${i.workflow} v${i.version}`, boundText(i.key, 80), i.state, dueText(i), formatTime(i.updatedAt)]),
  ]);
}

/**
 * An instance with its history as a readable timeline.
 *
 * @param snapshot - the instance, its history and its pending signals
 * @returns the lines
 * @example
 * renderTimeline((await runtime.get(id))._unsafeUnwrap());
 */
function renderTimeline(snapshot: InstanceSnapshot): string[] {
  const { instance, history, signals } = snapshot;
  const lines: string[] = [
    `Instance  ${instance.id}`,
    `Workflow  ${instance.workflow} v${instance.version}, key ${boundText(instance.key, 200)}`,
    `State     ${instance.state}${instance.wakeAt === null ? "" : `, next due ${formatTime(instance.wakeAt)}`}${instance.waitingFor.length === 0 ? "" : `, waiting for ${instance.waitingFor.join(", ")}`}`,
    `Created   ${formatTime(instance.createdAt)}, last change ${formatTime(instance.updatedAt)}`,
  ];
  if (instance.deadlineAt !== null) lines.push(`Deadline  ${formatTime(instance.deadlineAt)}`);
  if (instance.leaseOwner !== null && !FINAL_STATES.includes(instance.state)) lines.push(`Lease     ${boundText(instance.leaseOwner, 200)} until ${formatTime(instance.leaseUntil)}`);
  if (instance.trace !== undefined) lines.push(`Trace     ${instance.trace.traceparent}`);
  lines.push(`Input     ${json(instance.input, 1000)}`);
  if (instance.output !== undefined) lines.push(`Output    ${json(instance.output, 1000)}`);
  if (instance.failure !== undefined) lines.push(`Failure   ${failureText(instance.failure)}`);
  const waits = openWaits(history);
  if (waits.length > 0 && !FINAL_STATES.includes(instance.state)) {
    lines.push("Waiting");
    for (const w of waits) lines.push(`  ${describeEntry(w)}`);
  }
  if (signals.length > 0) {
    lines.push("Pending signals");
    for (const s of signals) lines.push(`  ${formatTime(s.deliveredAt)}  ${s.name}: ${s.name.startsWith("$") ? json(s.payload) : decisionText(s.payload)}`);
  }
  lines.push("", `History (${history.length} entries, times UTC, +elapsed since start)`);
  const start = history[0]?.at ?? instance.createdAt;
  const typeWidth = Math.max(0, ...history.map((e) => e.type.length));
  const seqWidth = String(history.length).length;
  for (const entry of history) {
    const text = describeEntry(entry);
    lines.push(`  ${String(entry.seq).padStart(seqWidth)}  ${formatTime(entry.at)}  ${`+${formatDuration(entry.at - start)}`.padEnd(14)}  ${entry.type.padEnd(typeWidth)}${text === "" ? "" : `  ${text}`}`.trimEnd());
  }
  return lines;
}

// ---- the subcommands ----

type Values = Readonly<Record<string, string | boolean | undefined>>;

interface Context {
  readonly runtime: WorkflowRuntime;
  readonly values: Values;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly io: WorkflowsIo;
}

const SILENT: WorkflowLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The exit code and diagnostic of a runtime error: 1 when the instance refused or is missing, 2 otherwise. */
function reportError(error: WorkflowError, command: string, io: WorkflowsIo): number {
  if (error.code === "invalid_signal") return io.usage(error.message, `workflows ${command}`);
  const where = "instanceId" in error ? error.instanceId : "millwright";
  io.err(diagnostic(where, error.code, error.message));
  return error.code === "instance_not_found" || error.code === "instance_finished" || error.code === "invalid_state" ? 1 : 2;
}

/** Which instance the command names: `<id>`, or `--workflow` with `--key`. */
function instanceIdFrom(values: Values, positionals: readonly string[], extra: number, command: string, io: WorkflowsIo): Result<string, number> {
  const workflow = values["workflow"];
  const key = values["key"];
  const rest = extra === 0 ? "" : " <name>";
  if (typeof workflow === "string" || typeof key === "string") {
    if (typeof workflow !== "string" || typeof key !== "string") return err(io.usage("--workflow and --key name an instance together: give both, or the <id>", `workflows ${command}`));
    if (positionals.length !== extra) return err(io.usage(`workflows ${command} takes --workflow and --key or an <id>, not both (got ${positionals.length} argument(s))`, `workflows ${command}`));
    return ok(instanceIdOf(workflow, key));
  }
  if (positionals.length !== 1 + extra) {
    return err(io.usage(`workflows ${command} needs <id>${rest}, or --workflow and --key${rest === "" ? "" : ` with${rest}`} (got ${positionals.length} argument(s))`, `workflows ${command}`));
  }
  return ok(positionals[0] as string);
}

async function list({ runtime, values, positionals, json: asJson, io }: Context): Promise<number> {
  if (positionals.length > 0) return io.usage(`workflows list takes no argument (got ${JSON.stringify(positionals[0])}); filter with --state and --workflow`, "workflows list");
  const filter: { state?: InstanceState; workflow?: string; limit?: number } = {};
  if (typeof values["state"] === "string") {
    const state = oneOf("state", values["state"], STATES);
    if (state.isErr()) return io.usage(state.error, "workflows list");
    filter.state = state.value;
  }
  if (typeof values["workflow"] === "string") filter.workflow = values["workflow"];
  const limit = Number(values["limit"] ?? "100");
  if (!/^\d+$/.test(String(values["limit"] ?? "100")) || limit < 1 || limit > 100_000) {
    return io.usage(`--limit ${JSON.stringify(values["limit"])} is not a count: an integer from 1 to 100000`, "workflows list");
  }
  filter.limit = limit;
  const listed = await runtime.list(filter);
  if (listed.isErr()) return reportError(listed.error, "list", io);
  if (asJson) await io.out(JSON.stringify(listed.value, null, 2));
  else for (const line of renderInstanceList(listed.value)) await io.out(line);
  return 0;
}

async function show({ runtime, values, positionals, json: asJson, io }: Context): Promise<number> {
  const id = instanceIdFrom(values, positionals, 0, "show", io);
  if (id.isErr()) return id.error;
  const got = await runtime.get(id.value);
  if (got.isErr()) return reportError(got.error, "show", io);
  if (asJson) await io.out(JSON.stringify(got.value, null, 2));
  else for (const line of renderTimeline(got.value)) await io.out(line);
  return 0;
}

async function request(context: Context, what: string, id: string, send: () => ReturnType<WorkflowRuntime["signal"]>, details: Readonly<Record<string, JsonValue>>): Promise<number> {
  const { io, runtime } = context;
  const sent = await send();
  if (sent.isErr()) return reportError(sent.error, what, io);
  const after = await runtime.get(id);
  const state = after.isOk() ? after.value.instance.state : undefined;
  if (context.json) await io.out(JSON.stringify({ instanceId: id, request: what, ...details, stored: true, ...(state === undefined ? {} : { state }) }));
  else await io.out(`${what}: stored for ${id}${state === undefined ? "" : ` (now ${state})`}; a worker acts on it when it next runs the instance`);
  return 0;
}

async function signal(context: Context): Promise<number> {
  const { values, positionals, io, runtime } = context;
  const id = instanceIdFrom(values, positionals, 1, "signal", io);
  if (id.isErr()) return id.error;
  const name = positionals[positionals.length - 1] as string;
  if (!NAME_PATTERN.test(name)) return io.usage(`the signal name ${JSON.stringify(name)} is invalid: a signal name is 1 to 100 of a-z, 0-9 and -`, "workflows signal");
  if (typeof values["decision"] !== "string") return io.usage("workflows signal needs --decision approve or --decision reject", "workflows signal");
  const decision = oneOf("decision", values["decision"], ["approve", "reject"] as const);
  if (decision.isErr()) return io.usage(decision.error, "workflows signal");
  const payload = {
    decision: decision.value,
    ...(typeof values["reason"] === "string" ? { reason: values["reason"] } : {}),
    ...(typeof values["by"] === "string" ? { by: values["by"] } : {}),
  };
  // A signal no wait asks for is kept until one does: say so, since it is often a mistyped name.
  const before = await runtime.get(id.value);
  if (before.isOk() && !FINAL_STATES.includes(before.value.instance.state)) {
    const asked = new Set(before.value.history.flatMap((e) => (e.type === "wait-started" && e.kind === "signal" && e.target !== undefined ? [e.target] : [])));
    const waiting = new Set(openWaits(before.value.history).flatMap((w) => (w.kind === "signal" && w.target !== undefined ? [w.target] : [])));
    if (!waiting.has(name)) {
      io.err(
        `millwright: instance ${id.value} is not waiting for the signal ${JSON.stringify(name)}${didYouMean(name, [...asked])}; it is kept until a wait for it starts`,
      );
    }
  }
  return await request(context, "signal", id.value, () => runtime.signal(id.value, name, payload), { signal: name, payload });
}

async function retry(context: Context): Promise<number> {
  const id = instanceIdFrom(context.values, context.positionals, 0, "retry", context.io);
  if (id.isErr()) return id.error;
  return await request(context, "retry", id.value, () => context.runtime.retry(id.value), {});
}

async function cancel(context: Context): Promise<number> {
  const { values, io } = context;
  const id = instanceIdFrom(values, context.positionals, 0, "cancel", io);
  if (id.isErr()) return id.error;
  const reason = values["reason"];
  if (typeof reason !== "string" || reason.trim() === "") return io.usage("workflows cancel needs --reason <text>: why, for the history", "workflows cancel");
  return await request(context, "cancel", id.value, () => context.runtime.cancel(id.value, reason), { reason });
}

const runners: Readonly<Record<string, (context: Context) => Promise<number>>> = { list, show, signal, retry, cancel };

/**
 * `millwright workflows <list|show|signal|retry|cancel> [options]`: reads the subcommand and its
 * options, opens the store and runs it.
 *
 * @param args - the arguments after `workflows`
 * @param groupHelp - the help of `millwright workflows`
 * @param io - where to write
 * @returns the exit code: 0 done, 1 no such instance or the request is refused, 2 usage or store errors
 * @example
 * const code = await workflows(["list", "--store", "wf.sqlite"], commandHelp(spec), io);
 */
export async function workflows(args: readonly string[], groupHelp: string, io: WorkflowsIo): Promise<number> {
  const [sub, ...rest] = args;
  const isHelp = (arg: string | undefined): boolean => arg === "--help" || arg === "-h";
  if (isHelp(sub) || (sub === "help" && (rest.length === 0 || isHelp(rest[0])))) {
    await io.out(groupHelp);
    return 0;
  }
  if (sub === undefined) return io.usage(`workflows needs a subcommand: ${workflowCommandNames.join(", ")}`, "workflows");
  const name = sub === "help" ? (rest[0] as string) : sub;
  const spec = workflowCommands.find((c) => c.name === name);
  if (spec === undefined) {
    const what = name.startsWith("-") ? "an option before the subcommand" : "subcommand";
    return io.usage(`workflows has no ${what} ${JSON.stringify(name)}${didYouMean(name, workflowCommandNames)}; one of ${workflowCommandNames.join(", ")}`, "workflows");
  }
  const command = `workflows ${spec.name}`;
  if (sub === "help") {
    await io.out(commandHelp(spec));
    return 0;
  }
  const parsed = readArgs({ ...spec, name: command }, rest);
  if (parsed.isErr()) return io.usage(parsed.error, command);
  if (parsed.value.help) {
    await io.out(commandHelp(spec));
    return 0;
  }
  const { values, positionals } = parsed.value;
  const shape = oneOf("format", String(values["format"] ?? "text"), ["text", "json"] as const);
  if (shape.isErr()) return io.usage(shape.error, command);
  const location = typeof values["store"] === "string" ? values["store"] : (io.env ?? process.env)[STORE_ENV];
  if (location === undefined || location === "") return io.usage(`${command} needs --store <file|url>: the SQLite file or postgres:// URL of the workflow store (or set ${STORE_ENV})`, command);
  const opened = await openWorkflowStore(location, String(values["table-prefix"] ?? DEFAULT_PREFIX));
  if (opened.isErr()) {
    if (opened.error.code === "usage") return io.usage(opened.error.message, command);
    io.err(diagnostic(opened.error.where, opened.error.code, opened.error.message));
    return 2;
  }
  const { store, close } = opened.value;
  try {
    // No definitions: signal, cancel and retry are requests the store keeps for the workers.
    const runtime = createWorkflowRuntime({ store, workflows: [], logger: SILENT, workerId: `millwright-cli:${process.pid}` });
    return await (runners[spec.name] as (context: Context) => Promise<number>)({ runtime, values, positionals, json: shape.value === "json", io });
  } finally {
    await close().catch(() => undefined);
  }
}
