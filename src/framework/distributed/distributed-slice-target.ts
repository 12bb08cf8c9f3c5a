import { StreamContext } from '../context/stream-context.js';
import { locateEnvelope, type EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ContextSink } from '../ports/sinks.js';
import type { CrewSliceDone, CrewWorkSink, SliceBase, SliceMerge, WantedReport } from '../runner-protocol.js';
import { CrewReports } from './crew-reports.js';
import { mergeReports } from './merged-context-replica.js';
import { andThen, runInOrder } from '../maybe-async.js';
import type { RunOutput } from '../runtime/run-output.js';
import { contextRecordOf } from '../model/context-record.js';
import { badReportRecord, contextTruncatedRecord, dependencyUnmetRecord, lateEventRecord, refusedEventRecord } from '../runtime/slice-reports.js';
import type { CrewSchedule } from '../scheduler/crew-schedule.js';
import type { SliceTarget, StreamProgress } from '../scheduler/slice-target.js';
import type { EngineCheckpoint } from '../scheduler/engine-checkpoint.js';
import type { SchedulerCheckpoint, SchedulerResume } from './scheduler-checkpoint.js';

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
  /** S(merged). */
  readonly context: StreamContext;
  /** The last slice merged; a successor going over earlier input sends nothing for it again. */
  merged: number;
  readonly quietBefore: number;
  /** Per open slice: which crews got work in it, which of those were told it is over, and the base its first calls carry. */
  readonly slices: Map<number, { readonly working: Set<number>; readonly closed: Set<number>; base?: SliceBase }>;
  /** The slices closed and not merged yet, in order, with the reports each merges. */
  readonly merges: Map<number, readonly WantedReport[]>;
}

/**
 * The slice engine's target in a distributed run (DESIGN §5): instead of calling handlers, it
 * sends each crew's calls to the runner hosting it, tells the crew when a slice is over, and
 * merges the crews' reports (`receive`) in run order into S(n) as the in-process runner does,
 * then commits it. The engine decides everything else, exactly as in process; this is why a
 * distributed run gives the in-process output.
 *
 * Slices are pipelined: closing slice n sends the closes and lets the engine go on, so slice
 * n+1's calls go out at once; the merge and commit of n follow in the background, in order. A
 * crew's first call of a slice carries a `SliceBase` from which its runner merges the reports
 * of the slices closed since itself. The engine waits only for the reports that decide a
 * dependency (whether a crew was disabled), and for the merge of n-1 when it closes n.
 *
 * A successor scheduler goes over the input from its predecessor's checkpoint: for slices already
 * committed it sends nothing and reports nothing, and input before its predecessor's resume point
 * reports no error again, so a takeover neither loses nor repeats output.
 */
export class DistributedSliceTarget implements SliceTarget {
  readonly #options: DistributedSliceTargetOptions;
  readonly #streams = new Map<string, StreamWork>();
  /** Per crew, the first slice whose report says it is disabled; Infinity while none has. */
  readonly #disabledFrom: number[];
  /** The most slices any crew lags: how long a slice's state is kept after it closes. */
  readonly #maxLag: number;
  readonly #indexOf: ReadonlyMap<string, number>;
  /** The crews another crew depends on: the engine asks whether they were disabled, so their reports are awaited at each close. */
  readonly #watched: ReadonlySet<number>;
  readonly #reports = new CrewReports();
  /** The engine's checkpoints go with each commit (`SchedulerCheckpoint`). */
  readonly checkpoints = true;
  /** The merges and commits under way, in slice order; never rejects (`#commitFailure` holds why one failed). */
  #merges: Promise<void> = Promise.resolve();
  #commitFailure: unknown;

  constructor(options: DistributedSliceTargetOptions) {
    this.#options = options;
    this.#disabledFrom = options.crews.map(() => Number.POSITIVE_INFINITY);
    this.#maxLag = Math.max(0, ...options.crews.map((crew) => crew.lag));
    this.#indexOf = new Map(options.crews.map((crew) => [crew.id, crew.index]));
    this.#watched = new Set(options.crews.flatMap((crew) => crew.dependencies.flatMap((dep) => (dep.type === 'crew' ? [dep.crewIndex] : []))));
  }

  /**
   * A runner's report that a crew finished a slice, in the order reports were published (`seq`:
   * its place in that order). A successor gets its predecessor's reports from its checkpoint's
   * `reportsFrom`: those of merged slices only tell it when crews were disabled. A crew's writes
   * of slice n merge at n + its lag.
   */
  receive(done: CrewSliceDone, seq: number): void {
    const index = this.#indexOf.get(done.crew);
    const stream = this.#streams.get(done.streamId);
    if (index !== undefined && done.disabled) this.#disabledFrom[index] = Math.min(this.#disabledFrom[index]!, done.slice);
    if (index === undefined || (stream !== undefined && done.slice + this.#options.crews[index]!.lag <= stream.merged)) this.#reports.passed(seq);
    else this.#reports.put(done, seq);
  }

  /**
   * The scheduler is stopping: waits for reports end with `reason`, so the engine stops without
   * merging or committing a slice whose reports are missing (a successor will).
   */
  cancel(reason: Error): void {
    this.#reports.cancel(reason);
  }

  /** How far a stream has come: the sequence of the last report received (0: none yet), the last slice merged. */
  progressOf(streamId: string): { readonly reportsReadTo: number; readonly merged: number | undefined } {
    return { reportsReadTo: this.#reports.readTo, merged: this.#streams.get(streamId)?.merged };
  }

  openStream(streamId: string): MaybePromise<undefined> {
    return andThen(this.#options.backend.load(streamId), (committed) =>
      andThen(this.#options.resume?.(streamId), (resume) => {
        const merged = committed?.slice ?? Number.NEGATIVE_INFINITY;
        for (const [crew, slice] of Object.entries(resume?.disabledFrom ?? {})) {
          const index = this.#indexOf.get(crew);
          if (index !== undefined) this.#disabledFrom[index] = Math.min(this.#disabledFrom[index]!, slice);
        }
        const stream: StreamWork = {
          context: new StreamContext(committed?.context ?? {}, this.#options.crews.length, this.#options.contextMaxBytes),
          merged,
          quietBefore: resume?.quietBefore ?? Number.NEGATIVE_INFINITY,
          slices: new Map(),
          merges: new Map(),
        };
        for (const [crew, slices] of Object.entries(resume?.lagging ?? {})) {
          const index = this.#indexOf.get(crew);
          if (index !== undefined) for (const slice of slices) this.#slice(stream, slice).working.add(index);
        }
        this.#streams.set(streamId, stream);
        this.#reports.forget((done) => done.streamId === streamId && done.slice + this.#lagOf(done.crew) <= merged);
        // The engine resumes this stream from nothing of ours: the scheduler's journal holds where it was.
        return undefined;
      }),
    );
  }

  dispatch(streamId: string, slice: number, envelope: EventEnvelope, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    const state = this.#slice(stream, slice);
    const working = state.working;
    if (slice <= stream.merged) {
      // Merged before this scheduler began: nothing to send, but a lagging crew's work there merges later.
      for (let i = 0; i < crews.length; i++) working.add(crews[i]!);
      return;
    }
    const { event, position } = envelope;
    const source = locateEnvelope(envelope);
    return runInOrder(crews.length, (i) => {
      const index = crews[i]!;
      const first = !working.has(index);
      working.add(index);
      const call = { type: 'call' as const, streamId, slice, crew: this.#options.crews[index]!.id, event, position, source };
      return this.#options.work.send(first ? { ...call, base: (state.base ??= this.#base(stream)) } : call);
    });
  }

  /** What a runner works S(n-1) out from, every slice below n being closed: the last merge, and the merges since. */
  #base(stream: StreamWork): SliceBase {
    const merges: SliceMerge[] = [];
    // A slice that merges nothing leaves the context as it was.
    for (const [slice, reports] of stream.merges) if (reports.length > 0) merges.push({ slice, reports });
    return { after: stream.merged, snapshot: stream.context.snapshot, merges, reportsFrom: this.#reports.firstSeq };
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
    if (slice <= this.#streams.get(streamId)!.merged) return;
    this.#options.output.error(dependencyUnmetRecord(streamId, slice, this.#options.crews[crew]!.id, unmet, events));
  }

  /** As its reports say (one stream per scheduler): the engine asks only about slices reported. */
  isDisabled(_streamId: string, crew: number, slice: number): boolean {
    return this.#disabledFrom[crew]! <= slice;
  }

  settle(streamId: string, slice: number, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    if (slice <= stream.merged) return;
    return this.#finish(stream, streamId, slice, crews);
  }

  /**
   * Slice n merges each crew's writes of slice n - its lag: the crews that got work there, with
   * the slice whose report holds them.
   */
  #merging(stream: StreamWork, slice: number): WantedReport[] {
    return this.#options.crews.flatMap((crew): WantedReport[] => (stream.slices.get(slice - crew.lag)?.working.has(crew.index) ? [[crew.id, slice - crew.lag]] : []));
  }

  /**
   * Tells the crews that got work in the slice that it is over, and lets the engine go on once
   * the merge of the slice before is done and the watched crews have reported: the closes are
   * stored behind it, in order with the next slice's calls. Merges and commits the slice in the
   * background.
   */
  async closeSlice(streamId: string, slice: number, endMs: number, progress: StreamProgress, engine?: EngineCheckpoint): Promise<void> {
    const stream = this.#streams.get(streamId)!;
    if (slice <= stream.merged) return;
    this.#options.observer?.sliceClosed?.(streamId, slice, endMs);
    const working = [...this.#slice(stream, slice).working];
    // The slice is over for every crew that got work in it; a lagging crew's report merges later.
    await this.#sendCloses(stream, streamId, slice, working);
    const merging = this.#merging(stream, slice);
    stream.merges.set(slice, merging);
    for (const key of stream.slices.keys()) if (key + this.#maxLag <= slice) stream.slices.delete(key);
    // Read now: by the time the commit runs, later input may be taken but its errors unsent, and
    // later slices closed.
    const quietBefore = this.#options.position();
    const lagging = this.#laggingWork(stream, slice);
    const before = this.#merges;
    this.#merges = before
      .then(() => this.#merge(stream, streamId, slice, endMs, merging, progress, { quietBefore, lagging, ...(engine !== undefined ? { engine } : {}) }))
      .catch((error: unknown) => {
        this.#commitFailure ??= error;
      });
    await this.#awaitReports(
      streamId,
      slice,
      this.#wanted(
        slice,
        working.filter((index) => this.#watched.has(index)),
      ),
      stream,
    );
    await before;
    if (this.#commitFailure !== undefined) throw this.#commitFailure;
  }

  /** Merges slice n from its reports once they are all here, publishes its error records, commits it. */
  async #merge(
    stream: StreamWork,
    streamId: string,
    slice: number,
    endMs: number,
    merging: readonly WantedReport[],
    progress: StreamProgress,
    read: Pick<SchedulerCheckpoint, 'quietBefore' | 'lagging' | 'engine'>,
  ): Promise<void> {
    const reports = await this.#awaitReports(streamId, slice, merging);
    for (const done of reports) if (done.refused !== undefined) this.#options.output.error(badReportRecord({ ...done, refused: done.refused }, endMs));
    const merged = mergeReports(stream.context, slice, reports, this.#indexOf);
    // What merged, and any report of a slice that can no longer merge (one no crew got work in).
    this.#reports.forget((done) => done.streamId === streamId && (reports.includes(done) || done.slice + this.#lagOf(done.crew) <= slice));
    // With the context: a base taken from here on starts from S(slice).
    stream.merges.delete(slice);
    stream.merged = slice;
    if (merged !== undefined && merged.dropped.length > 0) {
      this.#options.output.error(contextTruncatedRecord(streamId, slice, endMs, merged, this.#options.contextMaxBytes));
    }
    if (merged !== undefined) this.#options.observer?.contextMerged?.(streamId, slice, merged.size);
    await this.#options.flushOutput();
    const checkpoint: SchedulerCheckpoint = { ...read, disabledFrom: this.#disabledSoFar(), reportsFrom: this.#reports.firstSeq };
    await this.#options.backend.commit(streamId, slice, stream.context.snapshot, progress);
    await this.#options.committed(streamId, slice, checkpoint);
    const observed = this.#options.observer?.contextChanged;
    if (merged === undefined || (this.#options.contextOut === undefined && observed === undefined)) return;
    const broadcast = contextRecordOf(streamId, slice, endMs, merged);
    if (broadcast === undefined) return;
    observed?.(broadcast);
    await this.#options.contextOut?.write([broadcast]);
  }

  /** Per lagging crew id, the slices up to `slice` it got work in whose writes merge after `slice`. */
  #laggingWork(stream: StreamWork, slice: number): Record<string, number[]> {
    const lagging: Record<string, number[]> = {};
    for (const crew of this.#options.crews) {
      const slices: number[] = [];
      for (let from = slice - crew.lag + 1; from <= slice; from++) if (stream.slices.get(from)?.working.has(crew.index)) slices.push(from);
      if (slices.length > 0) lagging[crew.id] = slices;
    }
    return lagging;
  }

  /** Per crew id disabled so far, the first slice it was disabled in. */
  #disabledSoFar(): Record<string, number> {
    const disabled: Record<string, number> = {};
    this.#disabledFrom.forEach((slice, index) => {
      if (slice !== Number.POSITIVE_INFINITY) disabled[this.#options.crews[index]!.id] = slice;
    });
    return disabled;
  }

  /** Resolves when every slice closed so far is merged and committed; rejects if a merge or commit failed. */
  async settled(): Promise<void> {
    await this.#merges;
    if (this.#commitFailure !== undefined) throw this.#commitFailure;
  }

  /** Tells the crews that got work in the slice that it is over for them, and waits for their reports. */
  async #finish(stream: StreamWork, streamId: string, slice: number, crews: readonly number[]): Promise<void> {
    const working = this.#slice(stream, slice).working;
    await this.#sendCloses(stream, streamId, slice, crews);
    await this.#awaitReports(
      streamId,
      slice,
      this.#wanted(
        slice,
        crews.filter((index) => working.has(index)),
      ),
      stream,
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
  }

  /** The reports of `crews` (run-order indexes) of slice `slice`. */
  #wanted(slice: number, crews: readonly number[]): WantedReport[] {
    return crews.map((index) => [this.#options.crews[index]!.id, slice]);
  }

  /**
   * The `wanted` reports once all are here; tells `stalled`, about slice `slice`, while some are
   * not. Given the stream (`unlessMerged`), a wait for what only decides a dependency: a report
   * whose slice merged meanwhile is not waited for, as its merge forgot it (the engine asks only
   * whether the crew was disabled, which every report received says).
   */
  async #awaitReports(streamId: string, slice: number, wanted: readonly WantedReport[], unlessMerged?: StreamWork): Promise<CrewSliceDone[]> {
    const needed = () => (unlessMerged === undefined ? wanted : wanted.filter(([crew, of]) => of + this.#lagOf(crew) > unlessMerged.merged));
    // The work they answer must be stored first; a failure to store it ends the wait.
    if (needed().some(([crew, of]) => this.#reports.get(streamId, of, crew) === undefined)) await this.#options.work.flush();
    const { stalled, stalledAfterMs = 10_000, clock } = this.#options;
    const watch = stalled && {
      clock,
      afterMs: stalledAfterMs,
      stalled: (missing: readonly WantedReport[], waitedMs: number) =>
        stalled(
          streamId,
          slice,
          missing.map(([crew]) => crew),
          waitedMs,
        ),
    };
    // Filtered again after the flush: a merge may have taken them while the work was stored.
    return this.#reports.waitAll(streamId, needed(), watch);
  }

  /** How many slices after its own a crew's writes merge. */
  #lagOf(crew: string): number {
    return this.#options.crews[this.#indexOf.get(crew)!]!.lag;
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
