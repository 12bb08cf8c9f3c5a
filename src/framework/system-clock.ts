import type { Clock } from './ports.js';

/** The machine's wall clock: what the app binds to `CLOCK` unless a provider replaces it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
