import { parseEvent, type EventError } from "@millwright/events";
import { entityNames, parseEntity, type EntityName, type EventType } from "@millwright/model";

/** What a matcher returns to the test runner (vitest's and jest's shape). */
export interface MatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

function listIssues(issues: readonly { readonly code: string; readonly path: string; readonly message: string }[]): string {
  return issues.map((i) => `  - ${i.code}: ${i.message}`).join("\n");
}

function eventIssues(error: EventError): string {
  if (error.code === "invalid_data") {
    return listIssues(error.cause.issues.map((i) => ({ ...i, path: `${error.path}${i.path}`, message: `${error.path}${i.message}` })));
  }
  return listIssues([error]);
}

/**
 * Passes when the value is a valid canonical entity of the named kind (schema and semantic
 * rules). The failure message lists every issue: code, JSON Pointer, value and rule.
 *
 * @param received - the value under test
 * @param entity - the entity name, such as "WorkOrder"
 * @returns the matcher result
 * @example
 * expect(order).toBeCanonical("WorkOrder");
 */
export function toBeCanonical(received: unknown, entity: EntityName): MatcherResult {
  if (!(entityNames as readonly string[]).includes(entity)) {
    return { pass: false, message: () => `toBeCanonical: ${JSON.stringify(entity)} is not an entity; use one of ${entityNames.join(", ")}` };
  }
  const result = parseEntity(entity, received);
  if (result.isOk()) return { pass: true, message: () => `expected the value not to be a valid ${entity}, but it is` };
  return {
    pass: false,
    message: () => `expected a valid ${entity}, but it has ${result.error.issues.length} issue(s):\n${listIssues(result.error.issues)}`,
  };
}

/**
 * Passes when the value (an object, JSON text or bytes) is a valid canonical CloudEvent, and of
 * the given type when one is named. The failure message names the attribute or data field, its
 * value and the rule.
 *
 * @param received - the event under test
 * @param type - the expected event type, optional
 * @returns the matcher result
 * @example
 * expect(message.body).toBeCanonicalEvent("dev.millwright.workorder.released.v1");
 */
export function toBeCanonicalEvent(received: unknown, type?: EventType): MatcherResult {
  const result = parseEvent(received);
  if (result.isErr()) {
    return { pass: false, message: () => `expected a valid canonical event${type === undefined ? "" : ` of type ${type}`}, but:\n${eventIssues(result.error)}` };
  }
  if (type !== undefined && result.value.type !== type) {
    return { pass: false, message: () => `expected an event of type ${type}, but it is ${result.value.type}` };
  }
  return { pass: true, message: () => `expected the value not to be a valid canonical event${type === undefined ? "" : ` of type ${type}`}, but it is` };
}

/** Every Millwright matcher, for `expect.extend(millwrightMatchers)`. */
export const millwrightMatchers = { toBeCanonical, toBeCanonicalEvent } as const;
