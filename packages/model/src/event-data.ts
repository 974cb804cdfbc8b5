import { err, ok, type Result } from "neverthrow";
import { createModelError, preview, type ModelError, type ModelIssue } from "./errors.js";
import { eventCatalog, eventTypes, type EventDataMap, type EventType } from "./generated/events.js";
import { parseEntity } from "./parse.js";
import type { ParseOptions } from "./profile.js";

const KNOWN = new Set<string>(eventTypes);

/**
 * Tells whether a string is one of the canonical event types of this version of the catalog.
 *
 * @param type - any string
 * @returns whether it is a known type
 * @example
 * isEventType("dev.millwright.workorder.released.v1"); // true
 */
export function isEventType(type: string): type is EventType {
  return KNOWN.has(type);
}

function valueAt(data: unknown, segments: readonly string[]): unknown {
  let node = data;
  for (const segment of segments) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** One entry of an event type's `dataRequires`, its pointer split once. */
interface Requirement {
  readonly pointer: string;
  readonly segments: readonly string[];
  readonly allowed: readonly unknown[];
}

// Per event type, read from the catalog once: every call used to split the pointers again.
const requirements = new Map<EventType, readonly Requirement[]>();

function requirementsOf(type: EventType): readonly Requirement[] {
  let list = requirements.get(type);
  if (list === undefined) {
    list = (Object.entries(eventCatalog[type].dataRequires) as [string, readonly unknown[]][]).map(([pointer, allowed]) => ({
      pointer,
      segments: pointer.split("/").slice(1),
      allowed,
    }));
    requirements.set(type, list);
  }
  return list;
}

/**
 * Checks the data of an event of a known type: the entity it carries (schema and semantic rules),
 * then the values the type requires (the data of `…workorder.released.v1` has status released).
 * Never throws.
 *
 * @param type - a canonical event type
 * @param data - the event's data, any value
 * @param options - optionally a plant profile, checked after the global contract
 * @returns the typed data, or every issue found
 * @example
 * parseEventData("dev.millwright.workorder.released.v1", order).map((o) => o.orderId);
 */
export function parseEventData<TType extends EventType>(type: TType, data: unknown, options?: ParseOptions): Result<EventDataMap[TType], ModelError> {
  const entry = eventCatalog[type];
  const parsed = parseEntity(entry.entity, data, options);
  if (parsed.isErr()) return err(parsed.error);
  let issues: ModelIssue[] | undefined;
  for (const { pointer, segments, allowed } of requirementsOf(type)) {
    const value = valueAt(data, segments);
    if (!allowed.includes(value)) {
      const list = allowed.map((v) => JSON.stringify(v)).join(", ");
      (issues ??= []).push({
        code: "invalid_value",
        path: pointer,
        value,
        rule: `${type} carries ${pointer} in ${list}`,
        message: `${pointer}: ${value === undefined ? "absent" : preview(value)} does not fit event type ${type}, whose data has ${pointer} in ${list}`,
      });
    }
  }
  return issues === undefined ? ok(parsed.value as EventDataMap[TType]) : err(createModelError(entry.entity, issues));
}
