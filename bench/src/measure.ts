/** A timed operation: how many iterations ran and how long they took. */
interface Sample {
  readonly iterations: number;
  readonly ms: number;
}

/**
 * Times `fn` for `iterations` calls, `rounds` times, interleaving the contenders round by round so
 * that machine noise (another process, a GC, CPU frequency) hits them alike. Returns the median
 * nanoseconds per call of each.
 */
export function compare(
  contenders: Readonly<Record<string, () => unknown>>,
  options: { readonly iterations: number; readonly rounds: number; readonly warmup?: number },
): Record<string, number> {
  const names = Object.keys(contenders);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let sink = 0;
  for (const name of names) {
    const fn = contenders[name]!;
    for (let i = 0; i < (options.warmup ?? options.iterations); i++) if (fn()) sink++;
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const fn = contenders[name]!;
      const start = process.hrtime.bigint();
      for (let i = 0; i < options.iterations; i++) if (fn()) sink++;
      const ns = Number(process.hrtime.bigint() - start);
      samples[name]!.push(ns / options.iterations);
    }
  }
  if (sink < 0) console.log(sink);
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[mid]!;
}

/** Heap in use after a full collection (needs --expose-gc). */
export function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}
