/**
 * The record of decisions taken from the clock or the outside world, for exact replays.
 */
import type { MaybePromise } from './maybe-promise.js';

/**
 * The record of decisions a run took from the wall clock or the outside world (a handler call
 * abandoned at its `timeoutMs`, a model's answer), so a replay given the same journal takes the
 * same decisions and gives the same output. A journal either records (a live run) or replays (a
 * re-run).
 */
export interface DecisionJournal {
  /** True when decisions come from a recorded journal and the clock must not be consulted. */
  readonly replaying: boolean;
  /**
   * Whether the journal holds decision `key`: taken by the recorded run (a replay), by an earlier
   * process of the same run (a successor resuming it), or already by this one.
   */
  has(key: string): boolean;
  /** The value recorded with decision `key` (a model's answer), or undefined. */
  value(key: string): unknown;
  /** Records that decision `key` was taken, with a JSON `value` where the decision has one. */
  record(key: string, value?: unknown): MaybePromise<void>;
  close(): Promise<void>;
}
