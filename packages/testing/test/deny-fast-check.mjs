// Preload for a child process (`node --import ./deny-fast-check.mjs`) that makes fast-check
// unresolvable, through the ESM resolve hook and through require(), and reports every attempt on
// stderr as a line `fast-check requested: <specifier> from <parent>`.
import Module, { register } from "node:module";

register(new URL("./deny-fast-check-hooks.mjs", import.meta.url));

const denied = (specifier) => specifier === "fast-check" || specifier.startsWith("fast-check/");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (typeof request === "string" && denied(request)) {
    process.stderr.write(`fast-check requested: ${request} from ${parent?.filename ?? "?"}\n`);
    throw Object.assign(new Error(`Cannot find module '${request}' (denied by the test)`), { code: "MODULE_NOT_FOUND" });
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
