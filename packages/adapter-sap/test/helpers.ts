import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createSapConfig, type SapAdapterConfig, type SapAdapterConfigInput } from "../src/config.js";

/** The plant configuration used by the fixtures: Walldorf-like plant 1710 in Europe/Berlin. */
export function testConfig(overrides: Partial<SapAdapterConfigInput> = {}): SapAdapterConfig {
  return createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin", ...overrides })._unsafeUnwrap();
}

/** Read a JSON fixture from test/fixtures. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), "utf8")) as unknown;
}

/** A deep copy that tests can mutate. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Resolve an RFC 6901 JSON Pointer in a JSON value; `undefined` when no such location exists. */
function resolvePointer(value: unknown, pointer: string): { readonly found: boolean; readonly value?: unknown } {
  if (pointer === "") return { found: true, value };
  let current: unknown = value;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof current !== "object" || current === null || !Object.prototype.hasOwnProperty.call(current, token)) return { found: false };
    current = (current as Record<string, unknown>)[token];
  }
  return { found: true, value: current };
}

/**
 * Whether an issue's path points at a real location of the input: the value itself, or, for a
 * missing property, the object that lacks it.
 */
export function pointsIntoInput(input: unknown, issue: { readonly code: string; readonly path: string }): boolean {
  if (resolvePointer(input, issue.path).found) return true;
  if (issue.code !== "missing_property") return false;
  const parent = resolvePointer(input, issue.path.slice(0, issue.path.lastIndexOf("/")));
  return parent.found && typeof parent.value === "object" && parent.value !== null && !Array.isArray(parent.value);
}
