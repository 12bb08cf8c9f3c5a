import { StreamContext } from '../context/stream-context.js';
import { locateEnvelope, type EventEnvelope } from '../model/event.js';
import type { Clock, ContextBackend, ContextSink, MaybePromise, RunObserver } from '../ports.js';
import type { CrewSliceDone, CrewWorkSink } from './runner-protocol.js';
import { andThen, runInOrder } from '../maybe-async.js';
import type { RunOutput } from '../runtime/run-output.js';
import { contextRecordOf } from '../model/context-record.js';
import { contextTruncatedRecord, dependencyUnmetRecord, lateEventRecord, refusedEventRecord } from '../runtime/slice-reports.js';
import type { CrewSchedule } from '../scheduler/crew-schedule.js';
import type { SliceTarget, StreamProgress } from '../scheduler/slice-target.js';
import type { EngineCheckpoint } from '../scheduler/engine-checkpoint.js';

/** Where a scheduler resumes a stream: what its predecessor finished. */
export interface SchedulerResume {
  /** Input before this position was fully handled: its error records are not published again. */
  readonly quietBefore: number;
  /** Per crew id, the first slice its reports said it was disabled in. */
  readonly disabledFrom?: Readonly<Record<string, number>>;
}

/** What a committed slice leaves for a successor: where to resume, and how to go on from there without reading from the start. */
export interface SchedulerCheckpoint extends SchedulerResume {
  /** The engine's state after the slice closed; absent when it could not be taken there. */
  readonly engine?: EngineCheckpoint;
  /** The first report sequence (`receive`) a successor still needs: those before it are of merged slices. */
  readonly reportsFrom: number;
}

/** What the distributed scheduler's target needs. */
export interface DistributedSliceTargetOptions {
  /** Every crew, in run order. */
  readonly crews: readonly CrewSchedule[];
  readonly backend: ContextBackend;
  readonly work: CrewWorkSink;
  /** Where the scheduler's own error records go (late events, skips, context cuts). */
  readonly output: RunOutput;
  readonly contextMaxBytes: number;
  /** Publishes what `output` holds: error records of a slice go out before it is committed. */
  readonly flushOutput: () => Promise<void>;
  /**
   * The first input position not yet fully handled (`EventPipeline.resumePosition`), read as a
   * slice is merged: a successor reports no error of the input before it again.
   */
  readonly position: () => number;
  /** Called once slice `slice` of a stream is committed, so a successor can resume after it. */
  readonly committed: (streamId: string, slice: number, checkpoint: SchedulerCheckpoint) => MaybePromise<void>;
  /** Told of each merge. */
  readonly observer?: RunObserver;
  /** Where each merged slice's `__context` record goes, after its commit. */
  readonly contextOut?: ContextSink;
  /** Times how long reports are awaited. */
  readonly clock: Clock;
  /**
   * Told, every `stalledAfterMs` (default 10 s), of the crews whose report of a slice is still
   * awaited: a runner hosting them may be down, or none may match them.
   */
  readonly stalled?: (streamId: string, slice: number, crews: readonly string[], waitedMs: number) => void;
  readonly stalledAfterMs?: number;
  /** What a predecessor finished, per stream; nothing for a fresh start. */
  readonly resume?: (streamId: string) => MaybePromise<SchedulerResume | undefined>;
}

/** A stream as the distributed scheduler keeps it. */
interface StreamWork {
  readonly context: StreamContext;
  /** The last slice committed; a successor going over earlier input sends nothing for it again. */
  committed: number;
  readonly quietBefore: number;
  /** Per open slice: which crews got work in it, and which of those have been told it is over. */
  readonly slices: Map<number, { readonly working: Set<number>; readonly closed: Set<number> }>;
}

/**
 * The slice engine's target in a distributed run (DESIGN §5): instead of calling handlers, it
 * sends each crew's calls to the runner hosting it, tells the crew when a slice is over, waits
 * for its report (`receive`), and merges the reports in run order into S(n) as the in-process
 * runner does, then commits it. The engine decides everything else, exactly as in process; this
 * is why a distributed run gives the in-process output.
 *
 * A successor scheduler goes over the input from the start: for slices already committed it
 * sends nothing and reports nothing, and input before its predecessor's resume point reports
 * no error again, so a takeover neither loses nor repeats output.
 */
export class DistributedSliceTarget implements SliceTarget {
  readonly #options: DistributedSliceTargetOptions;
  readonly #streams = new Map<string, StreamWork>();
  /** Per crew, the first slice whose report says it is disabled; Infinity while none has. */
  readonly #disabledFrom: number[];
  /** The most slices any crew lags: how long a slice's state is kept after it merges. */
  readonly #maxLag: number;
  readonly #indexOf: ReadonlyMap<string, number>;
  /** Reports received, by `stream:slice:crewIndex`, until the slice is merged, with their sequence. */
  readonly #reports = new Map<string, { readonly done: CrewSliceDone; readonly seq: number }>();
  /** The sequence of the last report received. */
  #lastReportSeq = 0;
  readonly #awaited = new Map<string, { readonly resolve: () => void; readonly reject: (error: Error) => void }>();
  #cancelled: Error | undefined;
  /** The engine's checkpoints go with each commit (`SchedulerCheckpoint`). */
  readonly checkpoints = true;
  /** The commits under way, in slice order. */
  #commits: Promise<void> = Promise.resolve();
  #commitFailure: unknown;

  constructor(options: DistributedSliceTargetOptions) {
    this.#options = options;
    this.#disabledFrom = options.crews.map(() => Number.POSITIVE_INFINITY);
    this.#maxLag = Math.max(0, ...options.crews.map((crew) => crew.lag));
    this.#indexOf = new Map(options.crews.map((crew) => [crew.id, crew.index]));
  }

  /**
   * A runner's report that a crew finished a slice, in the order reports were published (`seq`:
   * its place in that order). A successor gets its predecessor's reports from its checkpoint's
   * `reportsFrom`: those of merged slices only tell it when crews were disabled. A crew's writes
   * of slice n merge at n + its lag.
   */
  receive(done: CrewSliceDone, seq: number): void {
    this.#lastReportSeq = Math.max(this.#lastReportSeq, seq);
    const index = this.#indexOf.get(done.crew);
    if (index === undefined) return;
    if (done.disabled) this.#disabledFrom[index] = Math.min(this.#disabledFrom[index]!, done.slice);
    const stream = this.#streams.get(done.streamId);
    if (stream !== undefined && done.slice + this.#options.crews[index]!.lag <= stream.committed) return;
    const key = reportKey(done.streamId, done.slice, index);
    if (this.#reports.has(key)) return;
    this.#reports.set(key, { done, seq });
    this.#awaited.get(key)?.resolve();
  }

  /** The first report sequence still needed: the oldest report not merged yet, or the next one. */
  #reportsFrom(): number {
    let first = this.#lastReportSeq + 1;
    for (const { seq } of this.#reports.values()) if (seq < first) first = seq;
    return first;
  }

  /**
   * The scheduler is stopping: waits for reports end with `reason`, so the engine stops without
   * merging or committing a slice whose reports are missing (a successor will).
   */
  cancel(reason: Error): void {
    this.#cancelled = reason;
    for (const { reject } of this.#awaited.values()) reject(reason);
    this.#awaited.clear();
  }

  openStream(streamId: string): MaybePromise<undefined> {
    return andThen(this.#options.backend.load(streamId), (committed) =>
      andThen(this.#options.resume?.(streamId), (resume) => {
        const merged = committed?.slice ?? Number.NEGATIVE_INFINITY;
        for (const [crew, slice] of Object.entries(resume?.disabledFrom ?? {})) {
          const index = this.#indexOf.get(crew);
          if (index !== undefined) this.#disabledFrom[index] = Math.min(this.#disabledFrom[index]!, slice);
        }
        this.#streams.set(streamId, {
          context: new StreamContext(committed?.context ?? {}, this.#options.crews.length, this.#options.contextMaxBytes),
          committed: merged,
          quietBefore: resume?.quietBefore ?? Number.NEGATIVE_INFINITY,
          slices: new Map(),
        });
        for (const [key, { done }] of this.#reports) {
          if (done.streamId === streamId && done.slice + this.#options.crews[this.#indexOf.get(done.crew)!]!.lag <= merged) this.#reports.delete(key);
        }
        // The engine resumes this stream from nothing of ours: the scheduler's journal holds where it was.
        return undefined;
      }),
    );
  }

  dispatch(streamId: string, slice: number, envelope: EventEnvelope, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    if (slice <= stream.committed) return;
    const working = this.#slice(stream, slice).working;
    const { event, position } = envelope;
    const source = locateEnvelope(envelope);
    return runInOrder(crews.length, (i) => {
      const index = crews[i]!;
      const first = !working.has(index);
      working.add(index);
      const call = { type: 'call' as const, streamId, slice, crew: this.#options.crews[index]!.id, event, position, source };
      // Every slice below this one is merged: the context is S(slice-1).
      return this.#options.work.send(first ? { ...call, context: stream.context.snapshot } : call);
    });
  }

  late(envelope: EventEnvelope, slice: number, openFrom: number): void {
    if (this.#quiet(envelope)) return;
    this.#options.output.error(lateEventRecord(envelope, slice, openFrom));
  }

  refused(envelope: EventEnvelope, message: string, ts: string): void {
    if (this.#quiet(envelope)) return;
    this.#options.output.error(refusedEventRecord(envelope, message, ts));
  }

  /** An event a predecessor already reported on (a stream not open yet has no predecessor's). */
  #quiet(envelope: EventEnvelope): boolean {
    return envelope.position < (this.#streams.get(envelope.event.stream_id)?.quietBefore ?? Number.NEGATIVE_INFINITY);
  }

  skipped(streamId: string, slice: number, crew: number, unmet: readonly string[], events: readonly EventEnvelope[]): void {
    if (slice <= this.#streams.get(streamId)!.committed) return;
    this.#options.output.error(dependencyUnmetRecord(streamId, slice, this.#options.crews[crew]!.id, unmet, events));
  }

  /** As its reports say (one stream per scheduler): the engine asks only about slices reported. */
  isDisabled(_streamId: string, crew: number, slice: number): boolean {
    return this.#disabledFrom[crew]! <= slice;
  }

  settle(streamId: string, slice: number, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    if (slice <= stream.committed) return;
    return this.#finish(stream, streamId, slice, crews);
  }

  /**
   * Slice n merges each crew's writes of slice n - its lag: the crews that got work there, with
   * the slice whose report holds them.
   */
  #merging(stream: StreamWork, slice: number): Array<{ readonly from: number; readonly index: number }> {
    return this.#options.crews.flatMap((crew) => (stream.slices.get(slice - crew.lag)?.working.has(crew.index) ? [{ from: slice - crew.lag, index: crew.index }] : []));
  }

  async closeSlice(streamId: string, slice: number, endMs: number, progress: StreamProgress, engine?: EngineCheckpoint): Promise<void> {
    const stream = this.#streams.get(streamId)!;
    if (slice <= stream.committed) return;
    this.#options.observer?.sliceClosed?.(streamId, slice, endMs);
    // The slice is over for every crew that got work in it; a lagging crew's report merges later.
    await this.#sendCloses(stream, streamId, slice, [...this.#slice(stream, slice).working]);
    const merging = this.#merging(stream, slice);
    const bySlice = new Map<number, number[]>();
    for (const { from, index } of merging) bySlice.set(from, [...(bySlice.get(from) ?? []), index]);
    await Promise.all([...bySlice].map(([from, crews]) => this.#awaitReports(streamId, from, crews)));
    for (const { from, index } of merging) {
      const key = reportKey(streamId, from, index);
      stream.context.writesOf(slice, index).recordWire(this.#reports.get(key)!.done.writes);
      this.#reports.delete(key);
    }
    for (const key of stream.slices.keys()) if (key + this.#maxLag <= slice) stream.slices.delete(key);
    const merged = stream.context.close(slice);
    if (merged !== undefined && merged.dropped.length > 0) {
      this.#options.output.error(contextTruncatedRecord(streamId, slice, endMs, merged, this.#options.contextMaxBytes));
    }
    if (merged !== undefined) this.#options.observer?.contextMerged?.(streamId, slice, merged.size);
    await this.#options.flushOutput();
    stream.committed = slice;
    // Runners start the next slice from the S(n) its work carries, not from the backend: the
    // commit goes on behind the slices, in order. A successor resuming from an older commit
    // merges the runners' reports of the slices after it again, and commits the same.
    const snapshot = stream.context.snapshot;
    // Read now: by the time the commit runs, later input may be taken but its errors unsent.
    const checkpoint: SchedulerCheckpoint = {
      quietBefore: this.#options.position(),
      disabledFrom: this.#disabledSoFar(),
      reportsFrom: this.#reportsFrom(),
      ...(engine !== undefined ? { engine } : {}),
    };
    const observed = this.#options.observer?.contextChanged;
    const broadcast = merged !== undefined && (this.#options.contextOut !== undefined || observed !== undefined) ? contextRecordOf(streamId, slice, endMs, merged) : undefined;
    if (this.#commitFailure !== undefined) throw this.#commitFailure;
    this.#commits = this.#commits
      .then(async () => {
        await this.#options.backend.commit(streamId, slice, snapshot, progress);
        await this.#options.committed(streamId, slice, checkpoint);
        if (broadcast === undefined) return;
        observed?.(broadcast);
        await this.#options.contextOut?.write([broadcast]);
      })
      .catch((error: unknown) => {
        this.#commitFailure ??= error;
      });
  }

  /** Per crew id disabled so far, the first slice it was disabled in. */
  #disabledSoFar(): Record<string, number> {
    const disabled: Record<string, number> = {};
    this.#disabledFrom.forEach((slice, index) => {
      if (slice !== Number.POSITIVE_INFINITY) disabled[this.#options.crews[index]!.id] = slice;
    });
    return disabled;
  }

  /** Resolves when every slice merged so far is committed; rejects if a commit failed. */
  async settled(): Promise<void> {
    await this.#commits;
    if (this.#commitFailure !== undefined) throw this.#commitFailure;
  }

  /** Tells the crews that got work in the slice that it is over for them, and waits for their reports. */
  async #finish(stream: StreamWork, streamId: string, slice: number, crews: readonly number[]): Promise<void> {
    const working = this.#slice(stream, slice).working;
    await this.#sendCloses(stream, streamId, slice, crews);
    await this.#awaitReports(
      streamId,
      slice,
      crews.filter((index) => working.has(index)),
    );
  }

  /** Tells each of `crews` that got work in the slice, once, that it is over for them. */
  async #sendCloses(stream: StreamWork, streamId: string, slice: number, crews: readonly number[]): Promise<void> {
    const state = this.#slice(stream, slice);
    for (const index of crews) {
      if (!state.working.has(index) || state.closed.has(index)) continue;
      state.closed.add(index);
      await this.#options.work.send({ type: 'close', streamId, slice, crew: this.#options.crews[index]!.id });
    }
    await this.#options.work.flush();
  }

  /** Resolves once each of `crews` has reported slice `slice`; tells `stalled` while some have not. */
  async #awaitReports(streamId: string, slice: number, crews: readonly number[]): Promise<void> {
    const watch = new AbortController();
    const watching = this.#watchStall(streamId, slice, crews, watch.signal);
    try {
      await Promise.all(crews.map((index) => this.#report(reportKey(streamId, slice, index))));
    } finally {
      watch.abort();
      await watching;
    }
  }

  /** Every `stalledAfterMs` until `signal` aborts, tells `stalled` which of `crews` have not reported slice `slice`. */
  async #watchStall(streamId: string, slice: number, crews: readonly number[], signal: AbortSignal): Promise<void> {
    const { stalled, stalledAfterMs = 10_000, clock } = this.#options;
    if (stalled === undefined) return;
    const started = clock.now();
    for (;;) {
      await clock.sleep(stalledAfterMs, signal);
      if (signal.aborted) return;
      const missing = crews.filter((index) => !this.#reports.has(reportKey(streamId, slice, index))).map((index) => this.#options.crews[index]!.id);
      if (missing.length > 0) stalled(streamId, slice, missing, clock.now() - started);
    }
  }

  #report(key: string): Promise<void> {
    if (this.#reports.has(key)) return Promise.resolve();
    if (this.#cancelled !== undefined) return Promise.reject(this.#cancelled);
    return new Promise((resolve, reject) => {
      this.#awaited.set(key, {
        resolve: () => {
          this.#awaited.delete(key);
          resolve();
        },
        reject,
      });
    });
  }

  #slice(stream: StreamWork, slice: number) {
    let state = stream.slices.get(slice);
    if (state === undefined) {
      state = { working: new Set<number>(), closed: new Set<number>() };
      stream.slices.set(slice, state);
    }
    return state;
  }
}

function reportKey(streamId: string, slice: number, crew: number): string {
  return `${streamId}:${slice}:${crew}`;
}
