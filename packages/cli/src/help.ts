// The commands' help texts and option tables, and the checks that read a command line against them.
import { parseArgs } from "node:util";
import { err, ok, type Result } from "neverthrow";
import { didYouMean } from "./suggest.js";

/** One option of a command. */
export interface OptionSpec {
  readonly name: string;
  readonly type: "string" | "boolean";
  /** How the value is shown in help (`<dir>`, `text|json`). */
  readonly value?: string;
  readonly description: string;
  readonly default?: string;
}

/** A command: its synopsis, what it does, its options, examples and exit codes. */
export interface CommandSpec {
  readonly name: string;
  readonly synopsis: string;
  readonly summary: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  readonly examples: readonly string[];
  /** Exit codes 0, 1 and 2 as this command means them (141 is the same for every command). */
  readonly exits: readonly [string, string, string];
}

const FORMAT: OptionSpec = { name: "format", type: "string", value: "text|json", description: "print text for people or JSON for tools", default: "text" };

/** The commands, in the order the overview lists them. */
export const commands: readonly CommandSpec[] = [
  {
    name: "validate",
    synopsis: "millwright validate [options] <file|->...",
    summary: "check CloudEvents or canonical records against the catalog",
    description: [
      "Validate CloudEvents (structured, or batches as JSON arrays) or, with --entity, plain",
      "canonical records. .ndjson/.jsonl files and - (standard input) are read line by line in flat",
      "memory; .json files are one document (an object or an array). Each issue is printed as",
      "file:line:column: error[code]: message, at the line and column of the offending value.",
      "An event's data is checked against its type even when its envelope is wrong too.",
    ].join("\n"),
    options: [
      { name: "entity", type: "string", value: "<Name>", description: "judge plain canonical records of this entity (WorkOrder, Batch, …)" },
      FORMAT,
      { name: "progress", type: "boolean", description: "show a running count on standard error (on by default on a terminal)" },
    ],
    examples: [
      "millwright validate captured-events.ndjson",
      "millwright validate --entity WorkOrder orders.json",
      "millwright validate --format json - < stream.ndjson",
    ],
    exits: ["every record is valid", "a record is invalid", "usage error, or an input cannot be read"],
  },
  {
    name: "catalog",
    synopsis: "millwright catalog [options]",
    summary: "print the event catalog",
    description: "Print the event catalog: each event type with its entity, subject and partition key.",
    options: [FORMAT],
    examples: ["millwright catalog", "millwright catalog --format json"],
    exits: ["the catalog was printed", "(not used)", "usage error"],
  },
  {
    name: "diff",
    synopsis: "millwright diff [options] <old> <new>",
    summary: "compare two versions of the contract; exit 1 on a breaking change",
    description: [
      "Compare two versions of the contract (bundle files or schema folders). Removed or renamed",
      "types and properties, new required properties, narrowed enums, types, bounds and patterns,",
      "changed natural keys and removed event types or transitions are breaking. New or narrowed",
      "event data requirements and a version step without its upcaster are breaking too; each event",
      "type a breaking change reaches is named with the version it needs.",
      "Given two plant profiles (docs/federation.md), it loads both against the global contract",
      "(a profile that conflicts with it is refused, exit 1) and classifies their changes: a new",
      "requirement or a narrowed field breaks producers, a removed namespace or field breaks consumers.",
    ].join("\n"),
    options: [FORMAT],
    examples: [
      "millwright diff compat/baseline.schema.json schemas",
      "millwright diff --format json old.schema.json new.schema.json",
      "millwright diff plant-1710.profile.json plant-1710.next.profile.json",
    ],
    exits: ["no breaking change", "a breaking change", "usage error, or a contract cannot be read"],
  },
  {
    name: "codegen",
    synopsis: "millwright codegen --out <dir> --lang <language> [options]",
    summary: "write types for other languages from the canonical schemas",
    description: [
      "Write types for other services from the canonical schemas (all entities, or the named",
      "entities, schema titles or event types). Timestamps and decimals stay exact strings.",
    ].join("\n"),
    options: [
      { name: "out", type: "string", value: "<dir>", description: "the folder to write into (required)" },
      { name: "lang", type: "string", value: "ts|csharp|java|python|go", description: "the language to write (required)" },
      { name: "types", type: "string", value: "<A,B,…>", description: "only these entities, schema titles or event types" },
      { name: "schemas", type: "string", value: "<bundle|dir>", description: "another schema bundle or folder (default: the installed catalog)" },
      { name: "profile", type: "string", value: "<file>", description: "a plant profile: its extension namespaces become types (ts only)" },
    ],
    examples: [
      "millwright codegen --lang go --out gen/",
      "millwright codegen --lang ts --out gen/ --types WorkOrder,dev.millwright.batch.released.v1",
      "millwright codegen --lang ts --out gen/ --profile profiles/plant-1710.profile.json",
    ],
    exits: ["the files were written", "(not used)", "usage error, or the bundle cannot be read or turned into code"],
  },
  {
    name: "align",
    synopsis: "millwright align [options] <events.ndjson|->",
    summary: "judge a log of events with the alignment rules; exit 1 on a breach",
    description: [
      "Judge a log of canonical events with the built-in alignment rules as of --at and print, per",
      "rule, the keys open, breached and resolved and the worst lateness, then each breach. Read line",
      "by line in flat memory; lines that are not usable events are reported on standard error as",
      "file:line:column: error[code]: message and left out.",
    ].join("\n"),
    options: [
      { name: "at", type: "string", value: "<time>", description: "the report time, RFC 3339 with an offset (default: the latest event)" },
      { name: "html", type: "string", value: "<file>", description: "also write a self-contained HTML page with a timeline per work order" },
      FORMAT,
    ],
    examples: ["millwright align events.ndjson", "millwright align --at 2026-03-02T15:00:00Z --html report.html events.ndjson"],
    exits: ["nothing is breached", "a rule is breached", "usage error, an input cannot be read, or a line is not a usable event"],
  },
  {
    name: "asyncapi",
    synopsis: "millwright asyncapi [options]",
    summary: "write the AsyncAPI 3.0 document of the event catalog over one transport",
    description: [
      "Write the AsyncAPI 3.0 document of the event catalog over one transport: a channel per event",
      "type at the topic, subject or routing key the transport uses, the CloudEvents headers of its",
      "binding, and the bundled data schemas. Deprecated types are marked.",
    ].join("\n"),
    options: [
      { name: "transport", type: "string", value: "mqtt|nats|amqp|http", description: "the transport the document describes", default: "mqtt" },
      { name: "out", type: "string", value: "<file>", description: "write the document to this file (default: standard output)" },
    ],
    examples: ["millwright asyncapi --transport nats --out millwright.nats.asyncapi.json", "millwright asyncapi > millwright.mqtt.asyncapi.json"],
    exits: ["the document was written", "(not used)", "usage error, a transport client is missing, or the file cannot be written"],
  },
  {
    name: "workflows",
    synopsis: "millwright workflows <list|show|signal|retry|cancel> --store <file|url> [options]",
    summary: "list, show, signal, retry or cancel workflow instances",
    description: [
      "Operate the workflow instances in a SQLite file or a PostgreSQL database (postgres://…):",
      "  list    list instances, newest first",
      "  show    print an instance and its history as a timeline",
      "  signal  give a person's decision (--decision approve|reject) to an instance",
      "  retry   run a failed (dead-lettered) instance's compensations again",
      "  cancel  cancel an instance (--reason): compensate its completed steps",
      "signal, retry and cancel are stored for the workers, which act on them; the workflows' code",
      "is not needed. millwright workflows <subcommand> --help prints a subcommand's options.",
    ].join("\n"),
    options: [
      { name: "store", type: "string", value: "<file|url>", description: "a SQLite file, or a postgres:// URL (default: $MILLWRIGHT_WORKFLOWS_STORE)" },
      { name: "table-prefix", type: "string", value: "<prefix>", description: "the prefix of the store's tables", default: "millwright_wf_" },
      FORMAT,
    ],
    examples: [
      "millwright workflows list --store ./wf.sqlite --state waiting",
      "millwright workflows show --store ./wf.sqlite 6f1c2e0a-…",
      "millwright workflows signal --store ./wf.sqlite 6f1c2e0a-… planner-approval --decision approve --by j.doe",
    ],
    exits: ["done", "no such instance, or it does not take the request", "usage error, or the store cannot be opened or read"],
  },
];

/** The command names, for "did you mean". */
export const commandNames: readonly string[] = commands.map((c) => c.name);

const HELP_OPTION = "  -h, --help";

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${left.padEnd(width)}  ${right}`);
}

/**
 * The help of one command: synopsis, description, options, examples and exit codes.
 *
 * @param spec - the command
 * @returns the text, without a final line break
 */
export function commandHelp(spec: CommandSpec): string {
  const options = table([
    ...spec.options.map((o): [string, string] => [
      `      --${o.name}${o.value === undefined ? "" : ` ${o.value}`}`,
      `${o.description}${o.default === undefined ? "" : ` (default: ${o.default})`}`,
    ]),
    [HELP_OPTION, "show this help"],
  ]);
  const exits = table([
    ["  0", spec.exits[0]],
    ...(spec.exits[1] === "(not used)" ? [] : [["  1", spec.exits[1]] as [string, string]]),
    ["  2", spec.exits[2]],
    ["  141", "standard output was closed before the end (as by | head)"],
  ]);
  return [
    `Usage: ${spec.synopsis}`,
    "",
    spec.description,
    "",
    "Options:",
    ...options,
    "",
    "Examples:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
    "Exit codes:",
    ...exits,
  ].join("\n");
}

/**
 * The overview: every command with its summary, the global options and the exit codes.
 *
 * @returns the text, without a final line break
 */
export function overviewHelp(): string {
  return [
    "millwright — the Millwright contract on the command line",
    "",
    "Usage: millwright <command> [options]",
    "",
    "Commands:",
    ...table(commands.map((c) => [`  ${c.name}`, c.summary])),
    "",
    "Options:",
    ...table([
      [HELP_OPTION, "show this help (millwright <command> --help: the command's options)"],
      ["      --version", "print the version"],
    ]),
    "",
    "Exit codes:",
    ...table([
      ["  0", "all good"],
      ["  1", "invalid input, a breaking change, or a breach"],
      ["  2", "usage error, or an input that cannot be read"],
      ["  141", "standard output was closed before the end (as by | head)"],
    ]),
  ].join("\n");
}

/** A command line read against a command's options. */
export type ParsedArgs = { readonly help: true } | { readonly help: false; readonly values: Readonly<Record<string, string | boolean | undefined>>; readonly positionals: readonly string[] };

/**
 * Reads a command's arguments: `-h`/`--help` anywhere before `--` asks for help; an option the
 * command does not have is a usage error naming the closest option it does have.
 *
 * @param spec - the command
 * @param args - the arguments after the command name
 * @returns the values and positionals, a request for help, or the usage problem
 */
export function readArgs(spec: CommandSpec, args: readonly string[]): Result<ParsedArgs, string> {
  const known = new Map(spec.options.map((o) => [`--${o.name}`, o]));
  const names = [...known.keys(), "--help"];
  const end = args.indexOf("--");
  // Help wins over every other mistake on the line: it is what someone who made one needs.
  if (args.slice(0, end === -1 ? args.length : end).some((a) => a === "--help" || a === "-h")) return ok({ help: true });
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.startsWith("--") ? arg.split("=")[0] as string : arg;
    const option = known.get(name);
    if (option === undefined) {
      return err(`${spec.name} has no option ${JSON.stringify(name)}${didYouMean(name, names)}`);
    }
    // A string option's value may be the next argument: skip it, whatever it looks like.
    if (option.type === "string" && !arg.includes("=")) i++;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: Object.fromEntries(spec.options.map((o) => [o.name, o.default === undefined ? { type: o.type } : { type: o.type, default: o.default }])) as Record<string, { type: "string" | "boolean" }>,
    });
    return ok({ help: false, values, positionals });
  } catch (cause) {
    // parseArgs reports a missing or ambiguous option value by throwing.
    return err((cause as Error).message);
  }
}

/**
 * Checks an option's value against the values it may take, suggesting the closest.
 *
 * @param option - the option's name, without dashes
 * @param value - the value given
 * @param allowed - the values it may take
 * @returns the value, or the usage problem
 */
export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): Result<T, string> {
  if ((allowed as readonly string[]).includes(value)) return ok(value as T);
  return err(`--${option} must be ${allowed.length === 2 ? allowed.join(" or ") : `one of ${allowed.join(", ")}`}, not ${JSON.stringify(value)}${didYouMean(value, allowed)}`);
}
