import type { ErrorReason } from '../model/error-record.js';
import type { IdleCrew } from '../runtime/idle-crews.js';
import { emptyErrorCounts } from '../runtime/output-buffer.js';
import type { InProcessRun } from './in-process-run.js';

/** What a run did. */
export interface RunSummary {
  /** Valid events taken in. */
  events: number;
  /** Input records rejected as invalid events. */
  invalid: number;
  /** Actions emitted. */
  actions: number;
  /** Error records published, all reasons. */
  errors: number;
  /** Error records per reason. */
  errorsByReason: Record<ErrorReason, number>;
  /** Slices closed that held at least one event, across streams. */
  slices: number;
  /**
   * Handler calls that never finished: their promise could never settle, or they were still
   * running `stop_timeout_ms` after a stop. Each failed as a `handler_error`; the CLI exits 1.
   */
  abandoned: number;
  /** The crews that made no call, each with the likeliest reason (also logged as a warning). */
  idleCrews: IdleCrew[];
  /** Wall time of the run in ms. */
  durationMs: number;
}

/**
 * Adds up what in-process runs did: an app's one run, or the runs of every stream a pool worker
 * owned in turn.
 */
export class RunTotals {
  #events = 0;
  #invalid = 0;
  #actions = 0;
  #slices = 0;
  readonly #errorsByReason = emptyErrorCounts();

  /** Adds what a run did so far. */
  add({ pipeline, output, engine }: Pick<InProcessRun, 'pipeline' | 'output' | 'engine'>): void {
    this.#events += pipeline.counts.accepted;
    this.#invalid += pipeline.counts.invalid;
    this.#actions += output.actionCount;
    this.#slices += engine.slicesClosed;
    for (const [reason, count] of Object.entries(output.errorCounts) as [ErrorReason, number][]) this.#errorsByReason[reason] += count;
  }

  /** The summary of the runs added, with what only the caller knows. */
  summary(extra: Pick<RunSummary, 'abandoned' | 'idleCrews' | 'durationMs'>): RunSummary {
    const errorsByReason = { ...this.#errorsByReason };
    return {
      events: this.#events,
      invalid: this.#invalid,
      actions: this.#actions,
      errors: Object.values(errorsByReason).reduce((sum, n) => sum + n, 0),
      errorsByReason,
      slices: this.#slices,
      ...extra,
    };
  }
}
