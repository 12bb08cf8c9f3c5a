import type { CallFailureReason } from './framework-verdict.js';

/** What a call may hand out: payload and context values, by JSON size and nesting. */
export interface OutputLimits {
  readonly payloadMaxBytes: number;
  readonly payloadMaxDepth: number;
  /** The most actions one call may emit: a call's output is held until it ends. */
  readonly maxActionsPerCall: number;
}

/** Stops and restarts the clock of a call's `timeoutMs`. */
export interface TimeoutClock {
  stop(): void;
  restart(): void;
}

/** How a failed call failed: it threw, or it ran past its `timeoutMs`. */
export interface CallFailure {
  readonly reason: CallFailureReason;
  readonly error: unknown;
  /** Whether this failure disabled the crew. */
  readonly disabledCrew: boolean;
}
