/** A source of the current time in epoch milliseconds (injectable for tests). */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** Waits `ms` milliseconds (injectable for tests). */
export type Sleep = (ms: number) => Promise<void>;

/** Waits with a timer. */
export const timerSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
