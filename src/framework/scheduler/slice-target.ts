import type { EventEnvelope } from '../model/event.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { EngineCheckpoint } from './engine-checkpoint.js';

// The contracts of the slice engine: what it drives (`SliceTarget`) and the knobs it runs with.

/** What the engine drives: the crew runtime, or a test double. */
export interface SliceTarget {
  /**
   * A stream's first event arrived (or its first after it was forgotten as idle); resolves when
   * the stream's context is ready, with where a stream the backend already holds goes on from.
   */
  openStream(streamId: string): MaybePromise<StreamResume | undefined>;
  /** Runs the handlers an event triggers in the given crews (run-order indexes, ascending), in slice `slice`. */
  dispatch(streamId: string, slice: number, envelope: EventEnvelope, crews: readonly number[]): MaybePromise<void>;
  /**
   * Slice `slice` of a stream is closed: no more events will be dispatched into it. `endMs` is
   * its end in event time, the deterministic time of anything the close reports. `checkpoint`
   * is the engine's state for a successor, given to a target that asks for it (`checkpoints`)
   * and could be taken (not while an event is held apart by the jump guard).
   */
  closeSlice(streamId: string, slice: number, endMs: number, progress: StreamProgress, checkpoint?: EngineCheckpoint): MaybePromise<void>;
  /** An event arrived for a slice already closed. */
  late(envelope: EventEnvelope, slice: number, openFrom: number): void;
  /**
   * An event was refused by a timestamp guard (`max_jump_ms`, `max_future_ms`); `message` says
   * why, `ts` is the time its record carries (the stream's newest event's, not the bad clock's).
   */
  refused(envelope: EventEnvelope, message: string, ts: string): void;
  /** The engine forgot an idle stream (every slice closed and merged); its per-stream state may go. */
  forgetStream?(streamId: string): void;
  /** A crew skipped a slice: its dependencies were unmet; `events` were not processed. */
  skipped(streamId: string, slice: number, crew: number, unmet: readonly string[], events: readonly EventEnvelope[]): void;
  /**
   * Whether a crew was disabled on a stream by the end of slice `slice` (it then finishes no
   * slice). The engine asks only about slices the crew has finished: merged, or settled.
   */
  isDisabled(streamId: string, crew: number, slice: number): boolean;
  /**
   * Slice `slice` will dispatch no more events to `crews`: resolves when they have finished it,
   * so that `isDisabled` is final for the slice. The engine calls it before deciding a crew that
   * waits on them (an offset-0 dependency, or one on a lagged crew).
   */
  settle?(streamId: string, slice: number, crews: readonly number[]): MaybePromise<void>;
  /**
   * Whether `closeSlice` works in the background: it returns at once, or with a promise that
   * resolves once the slice is committed, and holds the calls of later slices back until the
   * merge itself. The engine then goes on without waiting (it only notes the commit), so one
   * stream's slow call never stops another stream's events. Otherwise the engine waits for
   * `closeSlice` before it dispatches any later slice of the stream.
   */
  readonly closesInBackground?: boolean;
  /** Whether `closeSlice` wants the engine's checkpoint (a distributed scheduler's successor starts from it). */
  readonly checkpoints?: boolean;
}

/** Where a stream the backend already holds goes on: its epoch0, last merged slice and input position. */
export interface StreamResume {
  readonly epoch0: number;
  /** The last slice merged and committed. */
  readonly slice: number;
  /** Every event of the stream at or before this input position is merged (or was refused). */
  readonly position?: number;
}

/** What a commit of slice n records beside the snapshot, so a restart can go on exactly. */
export interface StreamProgress {
  readonly epoch0: number;
  /** Every event of the stream at or before this input position is in a merged slice (or was refused). */
  readonly position: number;
}

/** The knobs of slicing. */
export interface SliceTiming {
  readonly sliceMs: number;
  readonly latenessMs: number;
  /**
   * An event more than this ahead of its stream's newest event is held apart until a later event
   * confirms the jump (lands within this of it) or refutes it (is back on the old timeline).
   */
  readonly maxJumpMs?: number;
  /** Live mode: an event more than this ahead of the wall clock is refused (journaled). */
  readonly maxFutureMs?: number;
  /**
   * A stream with no event for this long (event time of the newest event of any stream in batch
   * mode, wall time in live mode), its slices closed, is forgotten until it comes back.
   */
  readonly streamIdleMs?: number;
  /**
   * Live mode: how many ms of event time pass per ms of wall time (1 live, 10 for a replay ten
   * times faster), so `tick()` closes slices as time passes. Undefined in batch mode.
   */
  readonly liveRate?: number;
}
