// Records every module a Node process loads, for core-import.test.ts: `node --import <this file>`
// with LOAD_RECORDER_FILE set. On the main thread it registers itself as a module hook; on the
// hooks thread its `resolve` appends each resolved URL to the file (synchronously, so nothing is
// lost when the process exits). Modules that CommonJS code loads with `require()` skip ESM
// hooks on Node 20, so the CommonJS resolver is wrapped to record those as well.
import { appendFileSync } from "node:fs";
import Module, { register } from "node:module";
import { pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";

let file;

/** Hooks thread: receives the log file. */
export function initialize(data) {
  file = data.file;
}

/** Hooks thread: records each URL some module resolved to. */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(file, `${result.url}\n`);
  return result;
}

if (isMainThread) {
  const target = process.env.LOAD_RECORDER_FILE;
  if (target === undefined || target === "") throw new Error("load-recorder.mjs needs LOAD_RECORDER_FILE");
  register(import.meta.url, { data: { file: target } });
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const filename = resolveFilename.apply(this, args);
    if (filename.startsWith("/")) appendFileSync(target, `${pathToFileURL(filename).href}\n`);
    return filename;
  };
}
