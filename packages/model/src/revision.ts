const REVISION = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Compares two revisions (digit strings of up to 20 digits) as unsigned integers, exactly.
 *
 * @param a - the first revision
 * @param b - the second revision
 * @returns -1, 0 or 1
 * @example
 * compareRevisions("20260301061530", "9"); // 1
 */
export function compareRevisions(a: string, b: string): -1 | 0 | 1 {
  if (!REVISION.test(a) || !REVISION.test(b)) {
    throw new TypeError(`compareRevisions: revisions are digit strings, got ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Writes a revision as a 20-digit, zero-padded string, whose lexicographic order is the numeric
 * order of the revisions (as the CloudEvents `sequence` extension requires).
 *
 * @param revision - a revision digit string
 * @returns the padded form
 * @example
 * revisionToSequence("42"); // "00000000000000000042"
 */
export function revisionToSequence(revision: string): string {
  if (!REVISION.test(revision)) throw new TypeError(`revisionToSequence: ${JSON.stringify(revision)} is not a revision`);
  return revision.padStart(20, "0");
}
