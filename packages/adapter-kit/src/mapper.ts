// Running a mapper: the reader's own failures become Results; everything else thrown is a bug and
// propagates. Only an input that is not plain data (a throwing getter, a revoked proxy) is the
// input's fault, and that is decided by looking at the input, not at what was thrown.
import { err, type Result } from "neverthrow";
import { issue, type Issue } from "./issue.js";

/**
 * Thrown by a reader that cannot go on (a value of the wrong form deep inside a mapper) and caught
 * only by {@link runMapper}, which turns it into an error Result. Any other exception is a bug.
 *
 * @example
 * ```ts
 * throw new ReaderFailure([issue("invalid_event", "/type", 7, "an event type is a string")]);
 * ```
 */
export class ReaderFailure<TIssue extends Issue = Issue> extends Error {
  override readonly name = "ReaderFailure";
  /** Every issue found, the first leading. */
  readonly issues: readonly [TIssue, ...TIssue[]];

  /**
   * @param issues - at least one issue
   */
  constructor(issues: readonly [TIssue, ...TIssue[]]) {
    super(issues[0].message);
    this.issues = issues;
  }
}

/** Objects a payload walk visits at most; beyond that the payload is not treated as plain data. */
const WALK_LIMIT = 1_000_000;

/**
 * Whether a value is plain data: every object and array is reached through data properties only,
 * without a getter, a proxy trap or a cycle.
 *
 * @param root - the value
 * @returns true for plain data
 * @example
 * ```ts
 * isPlainData({ d: { results: [] } }); // true
 * ```
 */
export function isPlainData(root: unknown): boolean {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  try {
    while (stack.length > 0) {
      const value = stack.pop();
      if (typeof value !== "object" || value === null) continue;
      if (seen.has(value) || seen.size >= WALK_LIMIT) return false;
      seen.add(value);
      for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(value))) {
        if (!("value" in descriptor)) return false;
        stack.push(descriptor.value);
      }
    }
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link runMapper}. */
export interface RunMapperOptions<TError, TIssue extends Issue = Issue> {
  /** Every value the mapper reads from (pass several as an array). */
  readonly input: unknown;
  /**
   * The error for a {@link ReaderFailure}'s issues. The mapper's readers throw only `TIssue`; an
   * issue type with fields beyond {@link Issue}'s keeps them optional, since the unreadable-input
   * issue has none.
   */
  readonly toError: (issues: readonly [TIssue, ...TIssue[]]) => TError;
  /** The code of the issue given when the input is not plain data (a throwing getter, a proxy, a cycle). */
  readonly unreadableCode: TIssue["code"];
}

/**
 * Run a mapper. A {@link ReaderFailure} becomes an error Result. Any other exception is rethrown:
 * it is a bug in the mapper, not bad input. The one exception is an input that is not plain data
 * — reading it can throw anything — which becomes one `unreadableCode` issue at the root; the
 * check runs only after a throw, so it costs nothing on the normal path.
 *
 * @param options - the input, how issues become the mapper's error, the code for unreadable input
 * @param run - the mapper
 * @returns the mapper's result, or the error of a reader failure or an unreadable input
 * @example
 * ```ts
 * const result = runMapper(
 *   { input: payload, toError: (issues) => ({ code: issues[0].code, issues }), unreadableCode: "invalid_envelope" },
 *   () => ok(readOrder(payload)),
 * );
 * ```
 */
export function runMapper<TValue, TError, TIssue extends Issue = Issue>(options: RunMapperOptions<TError, TIssue>, run: () => Result<TValue, TError>): Result<TValue, TError> {
  try {
    return run();
  } catch (cause) {
    if (cause instanceof ReaderFailure) return err(options.toError(cause.issues as readonly [TIssue, ...TIssue[]]));
    if (isPlainData(options.input)) throw cause;
    const name = cause instanceof Error ? cause.name : "non-error";
    return err(options.toError([issue(options.unreadableCode, "", undefined, `the payload could not be read as JSON data (${name})`) as TIssue]));
  }
}
