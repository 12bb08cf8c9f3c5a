/**
 * What monitors learn from a run: engine hooks, model calls and vector searches, and the monitor that serves them.
 */
import type { ContextRecord } from '../model/context-record.js';
import type { ErrorRecord } from '../model/error-record.js';
import type { Event } from '../model/event.js';
import type { Interceptor } from './interceptor.js';
import type { EmittedAction } from './sinks.js';

/**
 * What a monitor learns from the engine (DESIGN §6), beside what its interceptor sees of handler
 * calls. Every hook is optional and must be cheap: they run on the hot path.
 */
export interface RunObserver {
  /** A valid event was taken in (it may still turn out late). */
  eventAccepted?(event: Event): void;
  /** Actions were accepted by the action sink. */
  actionsSent?(actions: readonly EmittedAction[]): void;
  /** Error records were accepted by the error sink. */
  errorsSent?(errors: readonly ErrorRecord[]): void;
  /** Slice `slice` of a stream closed (`endMs`: its end in event time): its events are all handed to the crews. */
  sliceClosed?(streamId: string, slice: number, endMs: number): void;
  /** The engine forgot a stream that was idle past `stream_idle_ms`: what is kept per stream may go. */
  streamForgotten?(streamId: string): void;
  /** A slice was merged: the stream's context is now `bytes` of JSON. */
  contextMerged?(streamId: string, slice: number, bytes: number): void;
  /**
   * A merged slice changed the stream's context: its `__context` record, told once committed (as
   * `context_out` gets it). The record is derived only when some observer has this hook.
   */
  contextChanged?(record: ContextRecord): void;
  /** The process sent a heartbeat. */
  heartbeat?(): void;
  /** The process's heartbeats were `gapMs` apart: more than 3 beats (a blocked event loop, a stall). */
  heartbeatGap?(gapMs: number): void;
  /** A handler's model call ended. */
  modelCalled?(call: ModelCallReport): void;
  /** A handler's vector search ended. */
  vectorSearched?(search: VectorSearchReport): void;
  /**
   * A runner of the stream (its heartbeats' `process`: `runner /<selector>/`) has sent no heartbeat
   * for more than 3 beats (`silent`), or beats again: the distributed scheduler watches them.
   */
  runnerSilent?(runner: string, silent: boolean): void;
  /** A pool worker's hold on a stream changed (DESIGN §12). */
  streamOwnership?(change: OwnershipChange, streamId: string): void;
  /**
   * A pool worker looked at the pool: how many streams it owns, its fair share, and how long ago
   * the stalest of its leases was last renewed (ms; 0 with none).
   */
  poolLooked?(view: PoolView): void;
}

/**
 * How a pool worker's hold on a stream changed: it claimed an unowned one, took over one whose
 * holder's lease lapsed, handed one over (over its share, or stopping), released one idle past
 * `stream_idle_ms`, saw one finish, or lost one's lease to another worker.
 */
export type OwnershipChange = 'claimed' | 'taken-over' | 'handed-over' | 'released-idle' | 'finished' | 'lost';

/** What a pool worker saw when it last looked at the pool. */
export interface PoolView {
  readonly owned: number;
  readonly share: number;
  readonly workers: number;
  readonly activeStreams: number;
  readonly staleLeaseMs: number;
}

/** One vector search, as monitors see it: never its query. */
export interface VectorSearchReport {
  readonly crew: string;
  readonly collection: string;
  /** Answered by the store, failed, or served from the journal (a replay, a successor). */
  readonly outcome: 'ok' | 'error' | 'replayed';
  readonly hits: number;
  /** Wall time of the search, embedding included, in seconds. */
  readonly seconds: number;
}

/** How a model call ended: answered, failed, refused by the crew's budget, served from the journal, or refused as a replay divergence. */
export type ModelCallOutcome = 'ok' | 'error' | 'budget' | 'replayed' | 'divergence';

/** One model call, as monitors see it: never its prompt. */
export interface ModelCallReport {
  readonly crew: string;
  /** The model's name in `models:`. */
  readonly model: string;
  readonly outcome: ModelCallOutcome;
  /** Tokens the provider reported (a call served from the journal reports none: it cost nothing). */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Wall time of the call, retries included, in seconds. */
  readonly seconds: number;
}

/** Watches a process: engine hooks, an interceptor around every handler call, and what it serves (`/metrics`). */
export interface Monitor extends RunObserver {
  readonly interceptor?: Interceptor;
  /** Starts serving (`/metrics`), when it serves. */
  start?(): Promise<void>;
  /** Stops serving. Safe to call twice. */
  close(): Promise<void>;
}
