import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { entityNames, type EntityName } from "@millwright/model";
import { catalogRows, renderCatalog } from "./catalog.js";
import { codegenLanguages, generateCode } from "./codegen.js";
import { diagnostic, issueLines } from "./diagnostic.js";
import { diffContracts, loadBundle, loadContract } from "./diff.js";
import { commandHelp, commandNames, commands, oneOf, overviewHelp, readArgs, type CommandSpec, type ParsedArgs } from "./help.js";
import { didYouMean } from "./suggest.js";
import { boundText, escapeControls } from "./text.js";
import { openInput, validateJsonDocument, validateNdjson, type RecordResult } from "./validate.js";

/** The exit code when the reader of standard output goes away: 128 + SIGPIPE, as a Unix tool that the signal ends. */
const EXIT_PIPE_CLOSED = 141;

// A reader that stops early (| head) closes the pipe: the next write fails with EPIPE. That is the
// end of the command, not a crash: stop quietly. Standard error may be a closed pipe too; what
// would go there is lost either way.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT_PIPE_CLOSED);
  throw error;
});
process.stderr.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

type Writer = (line: string) => Promise<void>;

// Everything printed passes through escapeControls: text from the input (file names, JSON.parse
// messages that quote it, names from a schema bundle) cannot send escape sequences to a terminal.
function writerFor(stream: NodeJS.WriteStream): Writer {
  return (line) =>
    new Promise((resolve) => {
      if (stream.write(`${escapeControls(line, true)}\n`)) resolve();
      else stream.once("drain", () => resolve());
    });
}

const out = writerFor(process.stdout);

/** Writes one diagnostic line to standard error, escaped, with input-derived text cut. */
function warn(line: string): void {
  process.stderr.write(`${escapeControls(boundText(line, 2000))}\n`);
}

type Values = Readonly<Record<string, string | boolean | undefined>>;

/** What a command is given once its arguments are read: its options and positionals. */
interface Invocation {
  readonly values: Values;
  readonly positionals: readonly string[];
}

/** A usage error: what is wrong, then where to read how the command is used. Exit code 2. */
function usage(problem: string, command?: string): number {
  warn(diagnostic("millwright", "usage", problem));
  process.stderr.write(command === undefined ? "Run `millwright --help` for the commands.\n" : `Run \`millwright ${command} --help\` for its options.\n`);
  return 2;
}

/** An input that cannot be read (a missing file, a folder, a bundle that is not JSON). Exit code 2. */
function unreadable(where: string, cause: unknown): number {
  warn(diagnostic(where, "unreadable_input", `cannot be read: ${(cause as Error).message}`));
  return 2;
}

function format(values: Values, command: string): "text" | "json" | number {
  const checked = oneOf("format", String(values["format"]), ["text", "json"] as const);
  return checked.isOk() ? checked.value : usage(checked.error, command);
}

async function validate({ values, positionals }: Invocation): Promise<number> {
  if (positionals.length === 0) return usage("validate needs at least one file, or - for standard input", "validate");
  const entity = values["entity"];
  if (typeof entity === "string" && !(entityNames as readonly string[]).includes(entity)) {
    return usage(`--entity ${JSON.stringify(entity)} is not an entity${didYouMean(entity, entityNames) || `; one of ${entityNames.join(", ")}`}`, "validate");
  }
  const shape = format(values, "validate");
  if (typeof shape === "number") return shape;
  const json = shape === "json";
  const options = typeof entity === "string" ? { entity: entity as EntityName } : {};
  const showProgress = values["progress"] === true || process.stderr.isTTY === true;
  let records = 0;
  let invalid = 0;
  const started = Date.now();
  let lastProgress = started;
  const report = async (r: RecordResult): Promise<void> => {
    records++;
    if (!r.valid) {
      invalid++;
      if (json) await out(JSON.stringify(r));
      else for (const line of issueLines(r)) await out(line);
    }
    if (showProgress && (records & 0x3ff) === 0 && Date.now() - lastProgress > 1000) {
      lastProgress = Date.now();
      const rate = Math.round(records / ((lastProgress - started) / 1000));
      process.stderr.write(`\r${records.toLocaleString("en")} records, ${invalid.toLocaleString("en")} invalid, ${rate.toLocaleString("en")}/s `);
    }
  };
  for (const name of positionals) {
    try {
      if (name !== "-" && name.endsWith(".json")) {
        for (const r of validateJsonDocument(readFileSync(name), name, options)) await report(r);
      } else {
        for await (const r of validateNdjson(openInput(name), name, options)) await report(r);
      }
    } catch (cause) {
      return unreadable(name, cause);
    }
  }
  if (showProgress) process.stderr.write("\n");
  const summary = { records, valid: records - invalid, invalid };
  if (json) await out(JSON.stringify({ summary }));
  else await out(`${records} records: ${summary.valid} valid, ${invalid} invalid`);
  return invalid > 0 ? 1 : 0;
}

async function catalog({ values, positionals }: Invocation): Promise<number> {
  if (positionals.length > 0) return usage(`catalog takes no file (got ${JSON.stringify(positionals[0])})`, "catalog");
  const shape = format(values, "catalog");
  if (typeof shape === "number") return shape;
  const rows = catalogRows();
  await out(shape === "json" ? JSON.stringify(rows, null, 2) : renderCatalog(rows));
  return 0;
}

async function diff({ values, positionals }: Invocation): Promise<number> {
  if (positionals.length !== 2) return usage(`diff needs <old> and <new> (got ${positionals.length} argument(s))`, "diff");
  const shape = format(values, "diff");
  if (typeof shape === "number") return shape;
  let changes;
  try {
    changes = diffContracts(loadContract(positionals[0] as string), loadContract(positionals[1] as string));
  } catch (cause) {
    warn(diagnostic("millwright", "unreadable_input", (cause as Error).message));
    return 2;
  }
  const breaking = changes.filter((c) => c.severity === "breaking").length;
  if (shape === "json") await out(JSON.stringify({ breaking, changes }, null, 2));
  else {
    for (const c of changes) {
      await out(escapeControls(`${c.severity === "breaking" ? "BREAKING  " : "compatible"}  ${boundText(c.where, 300)}: ${boundText(c.message, 1000)} [${c.rule}]`));
    }
    await out(`${changes.length} change(s), ${breaking} breaking`);
  }
  return breaking > 0 ? 1 : 0;
}

async function codegen({ values, positionals }: Invocation): Promise<number> {
  if (positionals.length > 0) return usage(`codegen takes no file (got ${JSON.stringify(positionals[0])}); the schemas come from --schemas`, "codegen");
  const outDir = values["out"];
  const lang = values["lang"];
  if (typeof outDir !== "string" || typeof lang !== "string") return usage("codegen needs --out <dir> and --lang <language>", "codegen");
  const language = oneOf("lang", lang, codegenLanguages);
  if (language.isErr()) return usage(language.error, "codegen");
  let bundle: ReturnType<typeof loadBundle>;
  const schemas = values["schemas"];
  try {
    bundle = loadBundle(typeof schemas === "string" ? schemas : createRequire(import.meta.url).resolve("@millwright/model/schemas/bundle.schema.json"));
  } catch (cause) {
    warn(diagnostic("millwright", "unreadable_input", (cause as Error).message));
    return 2;
  }
  const types = typeof values["types"] === "string" ? values["types"].split(",").map((t) => t.trim()).filter((t) => t !== "") : undefined;
  const result = await generateCode({ lang: language.value, bundle, ...(types === undefined ? {} : { types }) });
  if (result.isErr()) {
    // unknown_type names a --types value: a usage error; everything else is about the bundle or the generator.
    if (result.error.code === "unknown_type") return usage(result.error.message, "codegen");
    warn(diagnostic("millwright", result.error.code, result.error.message));
    return 2;
  }
  for (const file of result.value) {
    // Generated paths come from type names; they stay inside --out whatever the generator made of them.
    const relative = normalize(file.path);
    if (isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
      warn(diagnostic("millwright", "unsafe_path", `the generator named a file outside --out (${file.path}); nothing more was written`));
      return 2;
    }
    const path = join(outDir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content.endsWith("\n") ? file.content : `${file.content}\n`);
    await out(`wrote ${path}`);
  }
  return 0;
}

/** The version of this package, as published. */
function version(): string {
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}

type Run = (invocation: Invocation) => Promise<number>;

const runners: Readonly<Record<string, Run>> = {
  validate,
  catalog,
  diff,
  codegen,
  align: async ({ values, positionals }) => {
    // Loaded on demand: the other commands do not pay for the alignment engine at start-up.
    const { align } = await import("./align.js");
    return await align({ values, positionals }, { out, err: warn, usage: (problem) => usage(problem, "align") });
  },
};

/** `workflows` has subcommands, each with its own options: it reads its arguments itself. */
async function runWorkflows(spec: CommandSpec, args: readonly string[]): Promise<number> {
  // Loaded on demand, like align: the store drivers load only for this command.
  const { workflows } = await import("./workflows.js");
  return await workflows(args, commandHelp(spec), { out, err: warn, usage });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${overviewHelp()}\n`);
    return 2;
  }
  const isHelp = (arg: string | undefined): boolean => arg === "--help" || arg === "-h";
  if (isHelp(command) || (command === "help" && (rest.length === 0 || isHelp(rest[0])))) {
    await out(overviewHelp());
    return 0;
  }
  if (command === "--version") {
    await out(version());
    return 0;
  }
  const name = command === "help" ? (rest[0] as string) : command;
  const spec: CommandSpec | undefined = commands.find((c) => c.name === name);
  if (spec === undefined) {
    const what = name.startsWith("-") ? "option" : "command";
    return usage(`unknown ${what} ${JSON.stringify(name)}${didYouMean(name, name.startsWith("-") ? ["--help", "--version"] : commandNames)}`);
  }
  if (command === "help") {
    await out(commandHelp(spec));
    return 0;
  }
  if (spec.name === "workflows") return await runWorkflows(spec, rest);
  const parsed = readArgs(spec, rest);
  if (parsed.isErr()) return usage(parsed.error, spec.name);
  const args: ParsedArgs = parsed.value;
  if (args.help) {
    await out(commandHelp(spec));
    return 0;
  }
  return await (runners[spec.name] as Run)({ values: args.values, positionals: args.positionals });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
