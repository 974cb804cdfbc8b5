import type { Result } from "neverthrow";
import type { ModelError } from "./errors.js";
import type { EntityName } from "./generated/catalog.js";
import { entityParsers, type EntityTypeMap } from "./generated/parsers.js";
import type { Parser } from "./create-parser.js";
import type { ParseOptions } from "./profile.js";

// The per-schema parsers (parseWorkOrder, …, parseWmsRequest) are generated from schemas/ into
// generated/parsers.ts; this module adds the one that dispatches by name.
export * from "./generated/parsers.js";
export type { Parser } from "./create-parser.js";

/**
 * Parses an unknown value as the named entity; the same as calling that entity's `parseX`.
 *
 * @param name - the entity name, such as "WorkOrder"
 * @param input - any value
 * @param options - optionally a plant profile, checked after the global contract
 * @returns the entity, or every issue found
 * @example
 * parseEntity("Batch", record);
 */
export function parseEntity<K extends EntityName>(name: K, input: unknown, options?: ParseOptions): Result<EntityTypeMap[K], ModelError> {
  const parser = entityParsers[name] as Parser<EntityTypeMap[K]> | undefined;
  if (parser === undefined) throw new TypeError(`parseEntity: unknown entity name ${JSON.stringify(name)}`);
  return parser(input, options);
}
