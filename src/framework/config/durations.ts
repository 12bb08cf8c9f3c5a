import { z } from 'zod';

/**
 * The longest delay a Node timer accepts (2^31-1 ms, about 24.8 days). A longer one fires after
 * 1 ms instead, so every configured duration is bounded by it.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in whole milliseconds, from `min` to what a timer accepts. */
export function durationMs(min: number) {
  return z
    .number({ error: 'must be a number (milliseconds)' })
    .int({ error: 'must be an integer' })
    .min(min, { error: min === 1 ? 'must be > 0' : `must be >= ${min}` })
    .max(MAX_TIMER_MS, { error: `must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer Node accepts)` });
}
