// ESM resolve hook of deny-fast-check.mjs: runs before every other registered hook (tsx's too).
const denied = (specifier) => specifier === "fast-check" || specifier.startsWith("fast-check/");

export async function resolve(specifier, context, nextResolve) {
  if (denied(specifier)) {
    process.stderr.write(`fast-check requested: ${specifier} from ${context.parentURL ?? "?"}\n`);
    throw Object.assign(new Error(`Cannot find package '${specifier}' (denied by the test)`), { code: "ERR_MODULE_NOT_FOUND" });
  }
  return nextResolve(specifier, context);
}
