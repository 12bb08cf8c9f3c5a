/**
 * Where a run's output goes: actions, error records, context records.
 */
import type { Action } from '../model/action.js';
import type { ContextRecord } from '../model/context-record.js';
import type { ErrorRecord } from '../model/error-record.js';
import type { MaybePromise } from './maybe-promise.js';

/** An action with its JSON line, serialised once when it was emitted. */
export interface EmittedAction {
  readonly action: Action;
  /** `encodeAction(action)`: the bytes every sink writes. */
  readonly json: string;
  /**
   * A deterministic id: `<stream>:<slice>:<crew>.<method>:<position>:<index>`. A re-run of the
   * same input gives the same ids, so a sink with de-duplication (JetStream) stores each once.
   */
  readonly id: string;
}

/** Where actions go. `write` resolves when the sink can take more (backpressure). */
export interface ActionSink {
  write(actions: readonly EmittedAction[]): MaybePromise<void>;
  /** Flushes and releases the sink. Safe to call twice. */
  close(): Promise<void>;
}

/** Where `__error` records go. */
export interface ErrorSink {
  write(errors: readonly ErrorRecord[]): MaybePromise<void>;
  close(): Promise<void>;
}

/**
 * Where each merged slice's `__context` record goes (`live.<stream>.ctx`, `--context-out`), for
 * viewers and other services following a stream's shared state. `write` resolves when the sink
 * can take more.
 */
export interface ContextSink {
  write(records: readonly ContextRecord[]): MaybePromise<void>;
  close(): Promise<void>;
}
