import { MAX_TIMER_MS } from './config/durations.js';
import type { Clock } from './ports/clock.js';

/** The machine's wall clock: what the app binds to `CLOCK` unless a provider replaces it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};

/**
 * A sleep of any length, ended early by `signal`: a timer past its maximum would fire after
 * 1 ms, so a long one is taken in steps.
 */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  const step = Math.min(ms, MAX_TIMER_MS);
  const slept = new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, step);
    signal?.addEventListener('abort', done, { once: true });
  });
  return ms <= MAX_TIMER_MS ? slept : slept.then(() => sleep(ms - MAX_TIMER_MS, signal));
}
