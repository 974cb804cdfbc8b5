// The `millwright` command as a function of its arguments and its streams: the bin entry
// (cli.ts) calls it with the process's, tests call it in-process with their own.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { entityNames, loadProfile, type EntityName, type Profile, type ProfileError } from "@millwright/model";
import { catalogRows, renderCatalog } from "./catalog.js";
import { diagnostic, issueLines } from "./diagnostic.js";
// diff and codegen load the contract toolchain (schema bundler, emitters, prettier): loaded on
// demand in their commands, so that validate and the others do not pay for it at start-up.
import type { SchemaChange } from "./diff.js";
import { diffProfiles, isProfileDocument, loadProfilePair } from "./diff-profile.js";
import { commandHelp, commandNames, commands, oneOf, overviewHelp, readArgs, type CommandSpec, type ParsedArgs } from "./help.js";
import { didYouMean } from "./suggest.js";
import { boundText, escapeControls } from "./text.js";
import { fileChunks, validateJsonDocument, validateNdjsonCounts, type RecordResult } from "./validate.js";

/** The streams and environment one run of the command reads and writes. */
export interface CliIo {
  /** What `-` reads. */
  readonly stdin: NodeJS.ReadableStream;
  /** Reports, help, the catalog: what a caller pipes on. */
  readonly stdout: NodeJS.WritableStream;
  /** Diagnostics about the command line and unreadable inputs, and the progress count. */
  readonly stderr: NodeJS.WritableStream;
  /** Whether standard error is a terminal: `validate` shows its running count there by default. */
  readonly stderrIsTerminal: boolean;
  /** Where `workflows` reads `MILLWRIGHT_WORKFLOWS_STORE`. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Values = Readonly<Record<string, string | boolean | undefined>>;

/** What a command is given once its arguments are read: its options and positionals. */
interface Invocation {
  readonly values: Values;
  readonly positionals: readonly string[];
}

/** One run's ways to speak: every printed line is escaped, diagnostics are bounded. */
interface Console {
  readonly io: CliIo;
  /** Writes a line to standard output, waiting while the reader is behind. */
  readonly out: (line: string) => Promise<void>;
  /** Writes one diagnostic line to standard error. */
  readonly warn: (line: string) => void;
  /** Reports a usage error and where to read how the command is used; returns exit code 2. */
  readonly usage: (problem: string, command?: string) => number;
}

// Everything printed passes through escapeControls: text from the input (file names, JSON.parse
// messages that quote it, names from a schema bundle) cannot send escape sequences to a terminal.
function consoleFor(io: CliIo): Console {
  const out = (line: string): Promise<void> =>
    new Promise((resolve) => {
      if (io.stdout.write(`${escapeControls(line, true)}\n`)) resolve();
      else io.stdout.once("drain", () => resolve());
    });
  const warn = (line: string): void => {
    io.stderr.write(`${escapeControls(boundText(line, 2000))}\n`);
  };
  const usage = (problem: string, command?: string): number => {
    warn(diagnostic("millwright", "usage", problem));
    io.stderr.write(command === undefined ? "Run `millwright --help` for the commands.\n" : `Run \`millwright ${command} --help\` for its options.\n`);
    return 2;
  };
  return { io, out, warn, usage };
}

/** An input that cannot be read (a missing file, a folder, a bundle that is not JSON). Exit code 2. */
function unreadable(c: Console, where: string, cause: unknown): number {
  c.warn(diagnostic(where, "unreadable_input", `cannot be read: ${(cause as Error).message}`));
  return 2;
}

function format(c: Console, values: Values, command: string): "text" | "json" | number {
  const checked = oneOf("format", String(values["format"]), ["text", "json"] as const);
  return checked.isOk() ? checked.value : c.usage(checked.error, command);
}

async function validate(c: Console, { values, positionals }: Invocation): Promise<number> {
  if (positionals.length === 0) return c.usage("validate needs at least one file, or - for standard input", "validate");
  const entity = values["entity"];
  if (typeof entity === "string" && !(entityNames as readonly string[]).includes(entity)) {
    return c.usage(`--entity ${JSON.stringify(entity)} is not an entity${didYouMean(entity, entityNames) || `; one of ${entityNames.join(", ")}`}`, "validate");
  }
  const shape = format(c, values, "validate");
  if (typeof shape === "number") return shape;
  const json = shape === "json";
  const options = typeof entity === "string" ? { entity: entity as EntityName } : {};
  const showProgress = values["progress"] === true || c.io.stderrIsTerminal;
  let records = 0;
  let invalid = 0;
  const started = Date.now();
  let lastProgress = started;
  // Called per record of a .json document, per chunk of NDJSON: at most one update a second.
  const progress = (): void => {
    if (showProgress && Date.now() - lastProgress > 1000) {
      lastProgress = Date.now();
      const rate = Math.round(records / ((lastProgress - started) / 1000));
      c.io.stderr.write(`\r${records.toLocaleString("en")} records, ${invalid.toLocaleString("en")} invalid, ${rate.toLocaleString("en")}/s `);
    }
  };
  // A valid record only counts: no promise and no await for it (most records of a run are valid).
  const reportInvalid = async (r: RecordResult): Promise<void> => {
    invalid++;
    if (json) await c.out(JSON.stringify(r));
    else for (const line of issueLines(r)) await c.out(line);
  };
  const report = async (r: RecordResult): Promise<void> => {
    records++;
    if (!r.valid) await reportInvalid(r);
    progress();
  };
  for (const name of positionals) {
    try {
      if (name !== "-" && name.endsWith(".json")) {
        for (const r of validateJsonDocument(readFileSync(name), name, options)) await report(r);
      } else {
        // In batches (one per chunk read): one await per chunk, not one per record, for the
        // generator; a batch counts its valid records and carries the invalid records' results only.
        for await (const batch of validateNdjsonCounts(name === "-" ? c.io.stdin : fileChunks(name), name, options)) {
          for (const r of batch.results) await reportInvalid(r);
          records += batch.records;
          progress();
        }
      }
    } catch (cause) {
      return unreadable(c, name, cause);
    }
  }
  if (showProgress) c.io.stderr.write("\n");
  const summary = { records, valid: records - invalid, invalid };
  if (json) await c.out(JSON.stringify({ summary }));
  else await c.out(`${records} records: ${summary.valid} valid, ${invalid} invalid`);
  return invalid > 0 ? 1 : 0;
}

async function catalog(c: Console, { values, positionals }: Invocation): Promise<number> {
  if (positionals.length > 0) return c.usage(`catalog takes no file (got ${JSON.stringify(positionals[0])})`, "catalog");
  const shape = format(c, values, "catalog");
  if (typeof shape === "number") return shape;
  const rows = catalogRows();
  await c.out(shape === "json" ? JSON.stringify(rows, null, 2) : renderCatalog(rows));
  return 0;
}

async function diff(c: Console, { values, positionals }: Invocation): Promise<number> {
  if (positionals.length !== 2) return c.usage(`diff needs <old> and <new> (got ${positionals.length} argument(s))`, "diff");
  const shape = format(c, values, "diff");
  if (typeof shape === "number") return shape;
  const { diffContracts, loadContract } = await import("./diff.js");
  let changes: SchemaChange[];
  try {
    const [oldPath, newPath] = positionals as [string, string];
    const documents = [oldPath, newPath].map((p) => (p.endsWith(".json") && statSync(p).isFile() ? (JSON.parse(readFileSync(p, "utf8").replace(/^\ufeff/, "")) as unknown) : undefined));
    const profiles = documents.map(isProfileDocument);
    if (profiles[0] !== profiles[1]) return c.usage("diff compares two plant profiles or two contracts, not one of each", "diff");
    if (profiles[0] === true) {
      // Plant profiles: both must load (each is checked against the global contract) before they are compared.
      const pair = loadProfilePair(documents[0], documents[1]);
      if (pair.isErr()) {
        reportProfileError(c, pair.error.which === "old" ? oldPath : newPath, pair.error.error);
        return 1;
      }
      changes = diffProfiles(pair.value[0], pair.value[1]);
    } else changes = diffContracts(loadContract(oldPath), loadContract(newPath));
  } catch (cause) {
    c.warn(diagnostic("millwright", "unreadable_input", (cause as Error).message));
    return 2;
  }
  const breaking = changes.filter((change) => change.severity === "breaking").length;
  if (shape === "json") await c.out(JSON.stringify({ breaking, changes }, null, 2));
  else {
    for (const change of changes) {
      await c.out(escapeControls(`${change.severity === "breaking" ? "BREAKING  " : "compatible"}  ${boundText(change.where, 300)}: ${boundText(change.message, 1000)} [${change.rule}]`));
    }
    await c.out(`${changes.length} change(s), ${breaking} breaking`);
  }
  return breaking > 0 ? 1 : 0;
}

/** Prints every issue of a profile that could not be loaded, one diagnostic line each. */
function reportProfileError(c: Console, file: string, error: ProfileError): void {
  for (const issue of error.issues) c.warn(diagnostic(`${file}#${issue.path}`, issue.code, `${issue.message} [${issue.rule}]`));
}

/** Reads and loads the plant profile of `--profile`; undefined without one, an exit code when it cannot be used. */
function readProfileOption(c: Console, values: Values): Profile | undefined | number {
  const file = values["profile"];
  if (typeof file !== "string") return undefined;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, "utf8").replace(/^\ufeff/, "")) as unknown;
  } catch (cause) {
    return unreadable(c, file, cause);
  }
  const loaded = loadProfile(document);
  if (loaded.isErr()) {
    reportProfileError(c, file, loaded.error);
    return 2;
  }
  return loaded.value;
}

async function codegen(c: Console, { values, positionals }: Invocation): Promise<number> {
  if (positionals.length > 0) return c.usage(`codegen takes no file (got ${JSON.stringify(positionals[0])}); the schemas come from --schemas`, "codegen");
  const outDir = values["out"];
  const lang = values["lang"];
  if (typeof outDir !== "string" || typeof lang !== "string") return c.usage("codegen needs --out <dir> and --lang <language>", "codegen");
  const { codegenLanguages, generateCode } = await import("./codegen.js");
  const { loadBundle } = await import("./diff.js");
  const language = oneOf("lang", lang, codegenLanguages);
  if (language.isErr()) return c.usage(language.error, "codegen");
  let bundle: ReturnType<typeof loadBundle>;
  const schemas = values["schemas"];
  try {
    bundle = loadBundle(typeof schemas === "string" ? schemas : createRequire(import.meta.url).resolve("@millwright/model/schemas/bundle.schema.json"));
  } catch (cause) {
    c.warn(diagnostic("millwright", "unreadable_input", (cause as Error).message));
    return 2;
  }
  const types = typeof values["types"] === "string" ? values["types"].split(",").map((t) => t.trim()).filter((t) => t !== "") : undefined;
  const profile = readProfileOption(c, values);
  if (typeof profile === "number") return profile;
  const result = await generateCode({ lang: language.value, bundle, ...(types === undefined ? {} : { types }), ...(profile === undefined ? {} : { profile }) });
  if (result.isErr()) {
    // unknown_type names a --types value: a usage error; everything else is about the bundle or the generator.
    if (result.error.code === "unknown_type" || result.error.code === "profile_unsupported") return c.usage(result.error.message, "codegen");
    c.warn(diagnostic("millwright", result.error.code, result.error.message));
    return 2;
  }
  for (const file of result.value) {
    // Generated paths come from type names; they stay inside --out whatever the generator made of them.
    const relative = normalize(file.path);
    if (isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
      c.warn(diagnostic("millwright", "unsafe_path", `the generator named a file outside --out (${file.path}); nothing more was written`));
      return 2;
    }
    const path = join(outDir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content.endsWith("\n") ? file.content : `${file.content}\n`);
    await c.out(`wrote ${path}`);
  }
  return 0;
}

/** The version of this package, as published. */
function version(): string {
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}

type Run = (c: Console, invocation: Invocation) => Promise<number>;

const runners: Readonly<Record<string, Run>> = {
  validate,
  catalog,
  diff,
  codegen,
  align: async (c, { values, positionals }) => {
    // Loaded on demand: the other commands do not pay for the alignment engine at start-up.
    const { align } = await import("./align.js");
    return await align({ values, positionals }, { out: c.out, err: c.warn, usage: (problem) => c.usage(problem, "align"), stdin: c.io.stdin });
  },
  asyncapi: async (c, { values, positionals }) => {
    // Loaded on demand: only this command loads the transports and their broker clients.
    const { asyncapi } = await import("./asyncapi.js");
    return await asyncapi({ values, positionals }, { out: c.out, err: c.warn, usage: (problem) => c.usage(problem, "asyncapi") });
  },
};

/** `workflows` has subcommands, each with its own options: it reads its arguments itself. */
async function runWorkflows(c: Console, spec: CommandSpec, args: readonly string[]): Promise<number> {
  // Loaded on demand, like align: the store drivers load only for this command.
  const { workflows } = await import("./workflows.js");
  return await workflows(args, commandHelp(spec), { out: c.out, err: c.warn, usage: c.usage, env: c.io.env });
}

const isHelp = (arg: string | undefined): boolean => arg === "--help" || arg === "-h";

/**
 * Runs the `millwright` command: reads the command line, runs the command, writes to the given
 * streams. Never exits the process and never writes to the process's own streams.
 *
 * @param argv - the arguments after `millwright`
 * @param io - the streams and environment of this run
 * @returns the exit code: 0 all good, 1 invalid input, a breaking change or a breach, 2 a usage
 *   error or an input that cannot be read
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo());
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const c = consoleFor(io);
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr.write(`${overviewHelp()}\n`);
    return 2;
  }
  if (isHelp(command) || (command === "help" && (rest.length === 0 || isHelp(rest[0])))) {
    await c.out(overviewHelp());
    return 0;
  }
  if (command === "--version") {
    await c.out(version());
    return 0;
  }
  const name = command === "help" ? (rest[0] as string) : command;
  const spec: CommandSpec | undefined = commands.find((candidate) => candidate.name === name);
  if (spec === undefined) {
    const what = name.startsWith("-") ? "option" : "command";
    return c.usage(`unknown ${what} ${JSON.stringify(name)}${didYouMean(name, name.startsWith("-") ? ["--help", "--version"] : commandNames)}`);
  }
  if (command === "help") {
    await c.out(commandHelp(spec));
    return 0;
  }
  if (spec.name === "workflows") return await runWorkflows(c, spec, rest);
  const parsed = readArgs(spec, rest);
  if (parsed.isErr()) return c.usage(parsed.error, spec.name);
  const args: ParsedArgs = parsed.value;
  if (args.help) {
    await c.out(commandHelp(spec));
    return 0;
  }
  return await (runners[spec.name] as Run)(c, { values: args.values, positionals: args.positionals });
}

/**
 * The process's own streams and environment, for the bin entry.
 *
 * @returns the io of this process
 */
export function processIo(): CliIo {
  // Standard input is made only when read (`-`): the getter of process.stdin sets up a stream.
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTerminal: process.stderr.isTTY === true,
    env: process.env,
  };
}
