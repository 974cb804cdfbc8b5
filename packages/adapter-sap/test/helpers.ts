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
