import type { CanonicalEvent } from "@millwright/events";
import { err, ok, type Result } from "neverthrow";
import { transportError, type TransportError } from "./errors.js";

/** The values a topic template is filled with: one level, several levels, or absent. */
export type TopicValues = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A parsed, checked topic template. */
export interface TopicTemplate {
  readonly template: string;
  /** Fills the template: every level normalized (trimmed, lower case, blanks to `-`) and checked. */
  readonly toTopic: (values: TopicValues) => Result<string, TransportError>;
}

type Part = { readonly kind: "static"; readonly text: string } | { readonly kind: "one" | "optional" | "many"; readonly name: string };

/** The unified-namespace default: enterprise / site / ISA-95 path / equipment / entity / action. */
export const DEFAULT_TOPIC_TEMPLATE = "{enterprise}/{site}/{path*}/{equipment?}/{entity}/{action}";

/** A level that normalizing only lower-cases. */
const PLAIN_LEVEL = /^[A-Za-z0-9_.:-]+$/;

/**
 * Normalizes one topic level: trimmed, lower case, runs of blanks to `-`; refuses empty levels,
 * the wildcards `+` and `#`, `/`, NUL and a leading `$` (reserved for the broker).
 *
 * @param value - the level as the source names it (a plant id, a line name)
 * @param path - where the value came from, for the error
 * @returns the normalized level
 * @example
 * normalizeLevel("Packing Line 1", "line"); // ok("packing-line-1")
 */
export function normalizeLevel(value: string, path: string): Result<string, TransportError> {
  // Most levels (plant ids, line names, ISA-95 path ids) are already plain: no blank, wildcard,
  // `/`, NUL or `$` in them, so lower-casing them is all there is to do.
  if (PLAIN_LEVEL.test(value)) return ok(value.toLowerCase());
  const level = value.trim().toLowerCase().replace(/\s+/g, "-");
  if (level === "") return err(transportError("invalid_topic", path, "a topic level is not empty", { value }));
  if (/[+#/\u0000]/.test(level)) return err(transportError("invalid_topic", path, "a topic level holds no wildcard (+, #), no / and no NUL", { value }));
  if (level.startsWith("$")) return err(transportError("invalid_topic", path, "a topic level does not start with $ (reserved for the broker)", { value }));
  return ok(level);
}

/**
 * Parses and checks a topic template: levels separated by `/`, each either fixed text or a
 * placeholder `{name}` (one level, required), `{name?}` (one level or none) or `{name*}` (any
 * number of levels). Fixed levels are checked like values.
 *
 * @param template - the template, e.g. {@link DEFAULT_TOPIC_TEMPLATE}
 * @returns the template, or why it is not valid
 * @example
 * const uns = createTopicTemplate("acme/{site}/{path*}/{equipment}/state")._unsafeUnwrap();
 * uns.toTopic({ site: "1710", path: ["Area-Fin"], equipment: "PACK1" }); // ok("acme/1710/area-fin/pack1/state")
 */
export function createTopicTemplate(template: string): Result<TopicTemplate, TransportError> {
  const parts: Part[] = [];
  for (const raw of template.split("/")) {
    const placeholder = /^\{([A-Za-z][A-Za-z0-9_]*)([?*]?)\}$/.exec(raw);
    if (placeholder !== null) {
      const name = placeholder[1] as string;
      parts.push({ kind: placeholder[2] === "?" ? "optional" : placeholder[2] === "*" ? "many" : "one", name });
      continue;
    }
    if (raw.includes("{") || raw.includes("}")) return err(transportError("invalid_topic", "template", "a placeholder fills a whole level: {name}, {name?} or {name*}", { value: template }));
    const level = normalizeLevel(raw, "template");
    if (level.isErr()) return err({ ...level.error, value: template });
    parts.push({ kind: "static", text: level.value });
  }
  if (!parts.some((p) => p.kind === "static" || p.kind === "one")) return err(transportError("invalid_topic", "template", "has at least one level that is always present", { value: template }));
  const frozen = Object.freeze(parts);
  return ok(
    Object.freeze({
      template,
      toTopic: (values: TopicValues): Result<string, TransportError> => {
        const levels: string[] = [];
        for (const part of frozen) {
          if (part.kind === "static") {
            levels.push(part.text);
            continue;
          }
          const value = values[part.name];
          const list = value === undefined ? [] : typeof value === "string" ? [value] : value;
          if (part.kind === "one" && list.length !== 1) return err(transportError("invalid_topic", part.name, `the template needs exactly one level for {${part.name}}`, { value }));
          if (part.kind === "optional" && list.length > 1) return err(transportError("invalid_topic", part.name, `{${part.name}?} takes at most one level`, { value }));
          for (const item of list) {
            const level = normalizeLevel(item, part.name);
            if (level.isErr()) return err(level.error);
            levels.push(level.value);
          }
        }
        const topic = levels.join("/");
        if (Buffer.byteLength(topic) > 65_535) return err(transportError("invalid_topic", "topic", "is at most 65,535 bytes", { value: topic.slice(0, 200) }));
        return ok(topic);
      },
    }),
  );
}

function field(data: unknown, ...keys: string[]): unknown {
  let at = data;
  for (const key of keys) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * Where an entity names its site, in the order the topic's site level reads them: the equipment's
 * site (machine states, counts), the record's own site (orders, batches, confirmations; an
 * alignment's `site` is the identifier itself), then the stock a fact is about: a movement's
 * source location, else its destination (a movement is booked by the plant the stock leaves; a
 * receipt has only a destination), a hold's site, held batch or held location. A hold of an
 * order's output names no site: it has no site level, and the publisher refuses it.
 */
const SITE_PATHS: readonly (readonly string[])[] = [
  ["equipment", "site", "id"],
  ["site", "id"],
  ["site"],
  ["from", "site", "id"],
  ["to", "site", "id"],
  ["scope", "site", "id"],
  ["scope", "batch", "site", "id"],
  ["scope", "location", "site", "id"],
];

function siteOf(data: unknown): string | undefined {
  for (const path of SITE_PATHS) {
    const site = text(field(data, ...path));
    if (site !== undefined) return site;
  }
  return undefined;
}

/**
 * The default topic values of an event: its site and ISA-95 equipment path from the data
 * (`equipment.path`, `equipment.id`; the site from the equipment, the record, or the stock it is
 * about: `from`/`to` of a movement, the scope of a hold), and entity and action from the type
 * (`dev.millwright.machinestate.changed.v1` → `machinestate`, `changed`).
 *
 * @param event - the event
 * @param enterprise - the first level
 * @returns the values for {@link DEFAULT_TOPIC_TEMPLATE}
 * @example
 * template.toTopic(topicValuesOf(event, "acme"));
 */
export function topicValuesOf(event: CanonicalEvent, enterprise: string): TopicValues {
  const data: unknown = event.data;
  const parts = event.type.split(".");
  const path = field(data, "equipment", "path");
  return {
    enterprise,
    site: siteOf(data),
    path: Array.isArray(path) ? path.filter((p): p is string => typeof p === "string") : undefined,
    equipment: text(field(data, "equipment", "id")),
    entity: parts[2],
    action: parts[3],
  };
}
