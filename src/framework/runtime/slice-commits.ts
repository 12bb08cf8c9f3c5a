import { andThen, isPromiseLike } from '../maybe-async.js';
import type { LaggingWrites } from '../model/committed-context.js';
import { contextRecordOf } from '../model/context-record.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ContextSink } from '../ports/sinks.js';
import type { StreamProgress } from '../scheduler/slice-target.js';
import type { VectorCalls } from '../vectors/vector-calls.js';
import type { StreamLanes } from './lanes.js';
import type { OutputSlot } from './output-sequence.js';
import type { RunOutput } from './run-output.js';
import type { CrewRuntime } from './route-table.js';
import { contextTruncatedRecord } from './slice-reports.js';

/** What commits use of the runner's services (`RunnerServices`). */
interface CommitServices {
  readonly models?: { readonly vectorCalls?: VectorCalls | undefined };
  readonly contextOut?: ContextSink;
  readonly observer?: RunObserver;
  readonly flushOutput?: () => MaybePromise<void>;
}

/**
 * Where a stream's slices merge and commit (DESIGN §4): a closed slice's writes merge into the
 * stream's context; its vector writes, the output before it (with a backend that outlives the
 * process) and what lagging crews wrote ahead go with the commit, which waits for the commits
 * before it; its `__context` record goes out once committed.
 */
export class SliceCommits {
  readonly #crews: readonly CrewRuntime[];
  /** The run-order indexes of the lagging crews. */
  readonly #lagging: readonly number[];
  readonly #backend: ContextBackend;
  readonly #output: RunOutput;
  readonly #contextMaxBytes: number;
  /** The run's vector search, whose held writes each merge applies; undefined when off. */
  readonly #vectors: VectorCalls | undefined;
  readonly #contextOut: ContextSink | undefined;
  readonly #observer: RunObserver | undefined;
  readonly #flushOutput: (() => MaybePromise<void>) | undefined;

  constructor(crews: readonly CrewRuntime[], backend: ContextBackend, output: RunOutput, contextMaxBytes: number, services: CommitServices) {
    this.#crews = crews;
    this.#lagging = crews.filter((crew) => crew.definition.lag > 0).map((crew) => crew.index);
    this.#backend = backend;
    this.#output = output;
    this.#contextMaxBytes = contextMaxBytes;
    this.#vectors = services.models?.vectorCalls;
    this.#contextOut = services.contextOut;
    this.#observer = services.observer;
    this.#flushOutput = services.flushOutput;
  }

  /**
   * Merges a slice's writes into the stream's context and commits it, after the commits before
   * it; resolves when committed. A `ctx_size` record goes to `slot` (or the output).
   */
  merge(stream: StreamLanes, slice: number, endMs: number, progress: StreamProgress, slot: OutputSlot | undefined): MaybePromise<void> {
    const merged = stream.context.close(slice);
    if (merged !== undefined && merged.dropped.length > 0) (slot ?? this.#output).error(contextTruncatedRecord(stream.id, slice, endMs, merged, this.#contextMaxBytes));
    slot?.done();
    // The slice's vector writes go to the store before its commit: a restart re-runs them, and upserts are idempotent.
    const vectorsApplied = this.#vectors?.merged(stream.id, slice);
    if (merged === undefined) return vectorsApplied === undefined ? stream.committing : this.#afterCommits(stream, () => vectorsApplied);
    this.#observer?.contextMerged?.(stream.id, slice, merged.size);
    const contextOut = this.#contextOut;
    const commit = () =>
      andThen(
        andThen(vectorsApplied, () => this.#laggingWrites(stream, slice)),
        (lagging) => {
          const full = lagging === undefined ? progress : { ...progress, lagging };
          if (this.#flushOutput === undefined) return this.#backend.commit(stream.id, slice, merged.snapshot, full);
          return andThen(this.#flushOutput(), () => this.#backend.commit(stream.id, slice, merged.snapshot, full));
        },
      );
    const observed = this.#observer?.contextChanged;
    const record = contextOut === undefined && observed === undefined ? undefined : contextRecordOf(stream.id, slice, endMs, merged);
    if (record === undefined) return this.#afterCommits(stream, commit);
    // Told once committed: what viewers see is what a restart resumes from.
    return this.#afterCommits(stream, () =>
      andThen(commit(), () => {
        observed?.(record);
        return contextOut?.write([record]);
      }),
    );
  }

  /** Runs `commit` after the stream's commits before it; resolves when it is done (at once when it all completes synchronously). */
  #afterCommits(stream: StreamLanes, commit: () => MaybePromise<void>): MaybePromise<void> {
    const committed = stream.committing === undefined ? commit() : stream.committing.then(commit);
    if (!isPromiseLike(committed)) return;
    stream.commitsQueued++;
    const tracked: Promise<void> = committed.then(() => {
      stream.commitsQueued--;
      if (stream.committing === tracked) stream.committing = undefined;
    });
    stream.committing = tracked;
    return tracked;
  }

  /**
   * What lagging crews wrote in slices up to `slice` that merges later, once their calls of those
   * slices have ended (undefined with no lagging crew): committed with S(slice), so a restart
   * after the commit, whose input resumes after slice `slice`, loses none of it.
   */
  #laggingWrites(stream: StreamLanes, slice: number): MaybePromise<LaggingWrites | undefined> {
    if (this.#lagging.length === 0) return undefined;
    const ended = stream.finished(slice, this.#lagging) ? undefined : new Promise<void>((resolve) => stream.settleWaits.push({ slice, crews: this.#lagging, resolve }));
    return andThen(ended, () =>
      this.#lagging.flatMap((index) => {
        const crew = (this.#crews.find((crew) => crew.index === index) as CrewRuntime).definition;
        return Array.from({ length: crew.lag }, (_, i) => slice + 1 + i).flatMap((merge) => {
          const writes = stream.context.writesMergingIn(merge, index);
          if (writes === undefined) return [];
          return [{ crew: crew.id, slice: merge, writes: writes.toWire() }];
        });
      }),
    );
  }
}
