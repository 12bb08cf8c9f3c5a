import { MAX_TIMER_MS } from './config/durations.js';
import type { Clock } from './ports.js';

/** The machine's wall clock: what the app binds to `CLOCK` unless a provider replaces it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

/** A sleep of any length: a timer past its maximum would fire after 1 ms, so a long one is taken in steps. */
function sleep(ms: number): Promise<void> {
  if (ms <= MAX_TIMER_MS) return new Promise((resolve) => setTimeout(resolve, ms));
  return new Promise<void>((resolve) => setTimeout(resolve, MAX_TIMER_MS)).then(() => sleep(ms - MAX_TIMER_MS));
}
