/** What the guard stores per entity key: the last applied revision and its content fingerprint. */
export interface RevisionState {
  readonly revision: string;
  readonly fingerprint: string;
}

/** A fact offered to the guard: the entity it is about, its revision and content fingerprint. */
export interface RevisionInput {
  /** The entity the revision counts for (see {@link entityKeyOf}). */
  readonly entityKey: string;
  /** A revision digit string; the CloudEvents `sequence` (20 digits, zero-padded) works as is. */
  readonly revision: string;
  /** {@link fingerprint} of the fact's content. */
  readonly fingerprint: string;
}

/**
 * The guard's verdict, never silent: `applied` (newer than anything seen, or the first),
 * `duplicate` (the same revision with the same content), `stale` (older than the last applied)
 * or `conflict` (the same revision with different content: the source broke its own rule).
 */
export type RevisionVerdict =
  | { readonly verdict: "applied"; readonly entityKey: string; readonly revision: string; readonly previous: string | undefined }
  | { readonly verdict: "duplicate"; readonly entityKey: string; readonly revision: string; readonly reason: string }
  | { readonly verdict: "stale"; readonly entityKey: string; readonly revision: string; readonly current: string; readonly reason: string }
  | {
      readonly verdict: "conflict";
      readonly entityKey: string;
      readonly revision: string;
      readonly fingerprint: string;
      readonly currentFingerprint: string;
      readonly reason: string;
    };

const DIGITS = /^[0-9]{1,20}$/;

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=.)/, "");
  const y = b.replace(/^0+(?=.)/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

/**
 * Decides what to do with an incoming revision given the last applied state. Pure; stores call
 * it (or its equivalent in SQL or Lua) atomically with the write.
 *
 * @param current - the state for the entity key, or undefined when none was applied yet
 * @param incoming - the entity key, revision and fingerprint of the incoming fact
 * @returns the verdict with its reason
 * @example
 * decideRevision({ revision: "7", fingerprint: "aa" }, { entityKey: "wo/1", revision: "6", fingerprint: "bb" }).verdict; // "stale"
 */
export function decideRevision(current: RevisionState | undefined, incoming: RevisionInput): RevisionVerdict {
  const { entityKey, revision } = incoming;
  if (!DIGITS.test(revision)) throw new TypeError(`decideRevision: revision ${JSON.stringify(revision)} is not a digit string of up to 20 digits`);
  if (current === undefined) return { verdict: "applied", entityKey, revision, previous: undefined };
  const order = compareDigits(revision, current.revision);
  if (order > 0) return { verdict: "applied", entityKey, revision, previous: current.revision };
  if (order < 0) {
    return { verdict: "stale", entityKey, revision, current: current.revision, reason: `revision ${revision} is older than the applied revision ${current.revision}` };
  }
  if (current.fingerprint === incoming.fingerprint) {
    return { verdict: "duplicate", entityKey, revision, reason: `revision ${revision} was already applied with the same content` };
  }
  return {
    verdict: "conflict",
    entityKey,
    revision,
    fingerprint: incoming.fingerprint,
    currentFingerprint: current.fingerprint,
    reason: `revision ${revision} was already applied with different content (fingerprint ${current.fingerprint}, now ${incoming.fingerprint})`,
  };
}

/**
 * The default entity key of an event: its source, the entity part of its type (the type
 * without the action and version, e.g. `dev.millwright.workorder` for
 * `dev.millwright.workorder.released.v1`) and its subject, as a JSON array (readable, unambiguous, and storable in any database: no U+0000). Revisions of one
 * entity from one source are comparable; those of different sources are not.
 *
 * @param event - an event with source, type and subject
 * @returns the entity key, or undefined when the event has no subject
 * @example
 * entityKeyOf({ source: "urn:s", type: "dev.millwright.workorder.released.v1", subject: "1000123" }); // '["urn:s","dev.millwright.workorder","1000123"]'
 */
export function entityKeyOf(event: { readonly source: string; readonly type: string; readonly subject?: string | undefined }): string | undefined {
  if (event.subject === undefined) return undefined;
  const parts = event.type.split(".");
  const entity = parts.length > 2 ? parts.slice(0, -2).join(".") : event.type;
  return JSON.stringify([event.source, entity, event.subject]);
}
