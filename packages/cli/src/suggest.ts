// "Did you mean": the closest known name to a mistyped one, by edit distance.

/**
 * The optimal-string-alignment distance (Damerau–Levenshtein without moving a character twice):
 * insertions, deletions, substitutions and swaps of two neighbours each cost 1. Stops early and
 * returns `limit + 1` once the distance is known to exceed `limit`.
 *
 * @param a - one string
 * @param b - the other
 * @param limit - the largest distance of interest
 * @returns the distance, or `limit + 1` when it is larger than `limit`
 * @example
 * editDistance("valdiate", "validate", 2); // 1
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      current.push(d);
      if (d < best) best = d;
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length] ?? limit + 1, limit + 1);
}

/**
 * The known name a mistyped one most likely meant: the single closest candidate (compared
 * case-insensitively) within one edit for names of up to three characters, two edits for longer
 * ones, and one edit per eight characters for long names such as event types. Ties give no
 * suggestion: a guess that could be wrong is worse than none.
 *
 * @param input - what was typed
 * @param candidates - the names it may have meant
 * @returns the suggestion, or undefined
 * @example
 * suggest("valdate", ["validate", "catalog", "diff"]); // "validate"
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const typed = input.toLowerCase();
  const limit = typed.length <= 3 ? 1 : Math.max(2, Math.floor(typed.length / 8));
  let best: string | undefined;
  let bestDistance = limit + 1;
  let tied = false;
  for (const candidate of candidates) {
    if (candidate === input) return undefined;
    const d = editDistance(typed, candidate.toLowerCase(), limit);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
      tied = false;
    } else if (d === bestDistance && d <= limit) tied = true;
  }
  return best !== undefined && !tied ? best : undefined;
}

/**
 * A "did you mean" clause for a message: `; did you mean "x"?`, or "" when nothing is close.
 *
 * @param input - what was typed
 * @param candidates - the names it may have meant
 * @returns the clause, or ""
 * @example
 * didYouMean("jsn", ["text", "json"]); // '; did you mean "json"?'
 */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  return s === undefined ? "" : `; did you mean ${JSON.stringify(s)}?`;
}
