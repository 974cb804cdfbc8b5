import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { parseArgs } from "node:util";
import { entityNames, type EntityName } from "@millwright/model";
import { catalogRows, renderCatalog } from "./catalog.js";
import { codegenLanguages, generateCode, type CodegenLanguage } from "./codegen.js";
import { diffContracts, loadBundle, loadContract } from "./diff.js";
import { boundText, escapeControls } from "./text.js";
import { openInput, validateJsonDocument, validateNdjson, type RecordResult } from "./validate.js";

const USAGE = `millwright — the Millwright contract on the command line

Usage:
  millwright validate [--entity <Name>] [--format text|json] [--progress] <file|->...
      Validate CloudEvents (structured, or batches as JSON arrays) or, with --entity, plain
      canonical records. .ndjson/.jsonl files and - (stdin) are read line by line in flat
      memory; .json files are one document (an object or an array). Exit 1 if any record is
      invalid.
  millwright catalog [--format text|json]
      Print the event catalog.
  millwright codegen --out <dir> --lang ts|csharp|java|python|go [--types A,B] [--schemas <bundle|dir>]
      Write types for other services from the canonical schemas (all entities, or the named
      entities, schema titles or event types). Timestamps and decimals stay exact strings.
  millwright diff <old> <new> [--format text|json]
      Compare two versions of the contract (bundle files or schema folders). Exit 1 on a
      breaking change.
  millwright align [--at <time>] [--html <file>] [--format text|json] <events.ndjson|->
      Judge a log of canonical events with the built-in alignment rules as of --at (RFC 3339
      with an offset; default: the latest event in the log) and print, per rule, the keys open,
      breached and resolved and the worst lateness, then each breach. --html also writes a
      self-contained page with the tables and a timeline per work order. Read line by line in
      flat memory; lines that are not usable events are reported with their line numbers and
      left out (exit 2). Exit 1 if anything is breached.

Exit codes: 0 all good, 1 invalid records, breaking changes or breaches, 2 usage or input errors,
141 standard output was closed before the command finished (as by | head).`;

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

/** One line per issue: `file:record: code: message`, every part escaped and bounded. */
function issueLine(source: string, record: number, code: string, message: string): string {
  return escapeControls(`${boundText(source, 300)}:${record}: ${code}: ${boundText(message, 1000)}`);
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { entity: { type: "string" }, format: { type: "string", default: "text" }, progress: { type: "boolean", default: false } },
  });
  if (positionals.length === 0) return usage("validate needs at least one file, or - for standard input");
  const entity = values.entity;
  if (entity !== undefined && !(entityNames as readonly string[]).includes(entity)) {
    return usage(`--entity ${entity} is not an entity; one of ${entityNames.join(", ")}`);
  }
  const json = values.format === "json";
  if (!json && values.format !== "text") return usage(`--format must be text or json, not ${values.format}`);
  const options = entity === undefined ? {} : { entity: entity as EntityName };
  const showProgress = values.progress === true || process.stderr.isTTY === true;
  let records = 0;
  let invalid = 0;
  const started = Date.now();
  let lastProgress = started;
  const report = async (r: RecordResult): Promise<void> => {
    records++;
    if (!r.valid) {
      invalid++;
      if (json) await out(JSON.stringify(r));
      else for (const i of r.issues) await out(issueLine(r.source, r.record, i.code, i.message));
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
      warn(`millwright: cannot read ${name}: ${(cause as Error).message}`);
      return 2;
    }
  }
  if (showProgress) process.stderr.write("\n");
  const summary = { records, valid: records - invalid, invalid };
  if (json) await out(JSON.stringify({ summary }));
  else await out(`${records} records: ${summary.valid} valid, ${invalid} invalid`);
  return invalid > 0 ? 1 : 0;
}

async function catalog(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: "string", default: "text" } } });
  const rows = catalogRows();
  await out(values.format === "json" ? JSON.stringify(rows, null, 2) : renderCatalog(rows));
  return 0;
}

async function diff(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { format: { type: "string", default: "text" } } });
  if (positionals.length !== 2) return usage("diff needs <old> and <new>");
  let changes;
  try {
    changes = diffContracts(loadContract(positionals[0]!), loadContract(positionals[1]!));
  } catch (cause) {
    warn(`millwright: ${(cause as Error).message}`);
    return 2;
  }
  const breaking = changes.filter((c) => c.severity === "breaking").length;
  if (values.format === "json") await out(JSON.stringify({ breaking, changes }, null, 2));
  else {
    for (const c of changes) {
      await out(escapeControls(`${c.severity === "breaking" ? "BREAKING  " : "compatible"}  ${boundText(c.where, 300)}: ${boundText(c.message, 1000)} [${c.rule}]`));
    }
    await out(`${changes.length} change(s), ${breaking} breaking`);
  }
  return breaking > 0 ? 1 : 0;
}

async function codegen(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, lang: { type: "string" }, types: { type: "string" }, schemas: { type: "string" } },
  });
  if (values.out === undefined || values.lang === undefined) return usage("codegen needs --out <dir> and --lang <language>");
  if (!(codegenLanguages as readonly string[]).includes(values.lang)) return usage(`--lang must be one of ${codegenLanguages.join(", ")}`);
  let bundle: ReturnType<typeof loadBundle>;
  try {
    bundle = loadBundle(values.schemas ?? createRequire(import.meta.url).resolve("@millwright/model/schemas/bundle.schema.json"));
  } catch (cause) {
    warn(`millwright: ${(cause as Error).message}`);
    return 2;
  }
  const types = values.types?.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const result = await generateCode({ lang: values.lang as CodegenLanguage, bundle, ...(types === undefined ? {} : { types }) });
  if (result.isErr()) {
    warn(`millwright: ${result.error.message}`);
    // unknown_type is a usage error of this command; everything else is wrong input (the bundle) or a generator failure.
    return result.error.code === "unknown_type" ? 1 : 2;
  }
  for (const file of result.value) {
    // Generated paths come from type names; they stay inside --out whatever the generator made of them.
    const relative = normalize(file.path);
    if (isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
      warn(`millwright: the generator named a file outside --out (${file.path}); nothing more was written`);
      return 2;
    }
    const path = join(values.out, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content.endsWith("\n") ? file.content : `${file.content}\n`);
    await out(`wrote ${path}`);
  }
  return 0;
}

function usage(problem?: string): number {
  if (problem !== undefined) process.stderr.write(`millwright: ${escapeControls(boundText(problem, 500))}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "validate":
        return await validate(rest);
      case "catalog":
        return await catalog(rest);
      case "diff":
        return await diff(rest);
      case "codegen":
        return await codegen(rest);
      case "align": {
        // Loaded on demand: the other commands do not pay for the alignment engine at start-up.
        const { align } = await import("./align.js");
        return await align(rest, { out, err: warn, usage });
      }
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        return usage(command === undefined ? undefined : `unknown command ${command}`);
    }
  } catch (cause) {
    // parseArgs reports unknown options by throwing: a usage error, not a crash.
    return usage((cause as Error).message);
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
