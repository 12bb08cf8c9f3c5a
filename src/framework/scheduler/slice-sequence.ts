import type { EventEnvelope } from '../model/event.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { andThen, isPromiseLike, runInOrder } from '../maybe-async.js';
import { applyBacklogPolicy, nextRunSlice, type CrewSchedule } from './crew-schedule.js';
import type { CrewReadiness } from './crew-readiness.js';
import { checkpointOf } from './engine-checkpoint.js';
import type { SliceTarget } from './slice-target.js';
import { ensureSlice, forgetBefore, hold, mergedThrough, newSliceState, noteAllCommitted, take, type PlacePoint, type SliceState, type StreamSlices } from './stream-slices.js';

/** Which crews an event kind triggers, split by whether they may run at once. */
interface KindPlan {
  /** Every triggered crew, in run order. */
  readonly crews: readonly CrewSchedule[];
  /** Their indexes, when all are unconditional: the whole plan is one dispatch. */
  readonly allAtOnce: readonly number[] | undefined;
  /** The lags of its lagging crews, each once: the slices their writes merge in must close. */
  readonly lags: readonly number[];
}

/** What the sequence asks of the engine that drives it. */
interface SequenceEngine {
  /** Events accepted so far: where a checkpoint stands. */
  accepted(): number;
  /** A stream found idle while closes were under way has no close left: the engine may forget it. */
  closedInBackground(stream: StreamSlices): void;
}

/**
 * Where slices run and close (DESIGN §4): an event of a stream's lowest open slice runs at once,
 * each triggered crew running, holding or skipping it; one of a later slice queues. Advancing a
 * stream to a new lowest open slice opens and closes every slice below it in order: held and
 * queued events run, waiting crews run in run order, skips are reported, and the target merges
 * and commits. The engine decides when (placement, watermark, ticks); this does what follows.
 */
export class SliceSequence {
  readonly #sliceMs: number;
  readonly #crews: readonly CrewSchedule[];
  readonly #target: SliceTarget;
  readonly #readiness: CrewReadiness;
  readonly #engine: SequenceEngine;
  readonly #plans = new Map<string, KindPlan>();
  /** How many closed slices a dependency may look back at. */
  readonly #lookBack: number;
  /** Whether any crew has an event dependency, so slices must remember their kinds. */
  readonly #tracksKinds: boolean;
  #closedCount = 0;
  /** Closes going on in the background, until committed. */
  readonly #closing = new Set<Promise<void>>();
  /** The first background close that failed: the run fails with it at the next step. */
  #closeFailure: { readonly error: unknown } | undefined;

  constructor(sliceMs: number, crews: readonly CrewSchedule[], target: SliceTarget, readiness: CrewReadiness, engine: SequenceEngine) {
    this.#sliceMs = sliceMs;
    this.#crews = crews;
    this.#target = target;
    this.#readiness = readiness;
    this.#engine = engine;
    this.#lookBack = Math.max(0, ...crews.flatMap((crew) => crew.dependencies.map((dep) => -dep.offset)));
    this.#tracksKinds = crews.some((crew) => crew.dependencies.some((dep) => dep.type === 'event'));
  }

  /** Slices closed so far, across streams, counting only slices that had events. */
  get closedCount(): number {
    return this.#closedCount;
  }

  /** Throws the first background close that failed: the run fails with it. */
  throwIfCloseFailed(): void {
    if (this.#closeFailure !== undefined) throw this.#closeFailure.error;
  }

  /** Resolves when every slice closed in the background is committed; rejects with the first failure. */
  async closed(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all(this.#closing);
    this.throwIfCloseFailed();
  }

  /** Runs an event of the lowest open slice now; queues one of a later slice. */
  arrive(stream: StreamSlices, slice: number, envelope: EventEnvelope): MaybePromise<void> {
    const state = this.#state(stream, slice, envelope.position);
    if (slice === stream.openFrom) return this.#runnable(stream, slice, state, envelope);
    (state.queued ??= []).push(envelope);
  }

  /** An event of slice n, all slices below n being closed: each triggered crew runs, holds or skips it. */
  #runnable(stream: StreamSlices, slice: number, state: SliceState, envelope: EventEnvelope): MaybePromise<void> {
    state.hadEvents = true;
    if (this.#tracksKinds) state.kinds.add(envelope.event.kind);
    const plan = this.#planFor(envelope.event.kind);
    const lags = plan.lags;
    for (const lag of lags) ensureSlice(stream, slice + lag, this.#crews.length);
    if (plan.allAtOnce !== undefined) {
      return plan.allAtOnce.length > 0 ? this.#target.dispatch(stream.id, slice, envelope, plan.allAtOnce) : undefined;
    }
    const now: number[] = [];
    for (const crew of plan.crews) {
      const runSlice = nextRunSlice(slice, crew.sliceStride);
      if (runSlice > slice) {
        const later = this.#state(stream, runSlice, envelope.position);
        later.backlog = hold(later.backlog, this.#crews.length, crew, envelope);
      } else if (crew.holdsUntilClose && !state.released.has(crew.index)) {
        state.held = hold(state.held, this.#crews.length, crew, envelope);
        this.#readiness.startWait(stream, slice, state, crew);
      } else if (this.#readiness.decide(stream, slice, state, crew).length === 0) now.push(crew.index);
      else this.#readiness.skip(state, crew, [envelope]);
    }
    return now.length > 0 ? this.#target.dispatch(stream.id, slice, envelope, now) : undefined;
  }

  /**
   * Closes every slice below `openFrom`, in order: each opens (its held and queued events run),
   * then closes. The next slice is looked up at each step, since running a slice's events may
   * hold some of them for a later one.
   */
  advance(stream: StreamSlices, openFrom: number): MaybePromise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const slice of stream.slices.keys()) if (slice >= stream.openFrom && slice < openFrom && slice < next) next = slice;
    if (next === Number.POSITIVE_INFINITY) {
      stream.openFrom = openFrom;
      noteAllCommitted(stream);
      return this.#open(stream, openFrom);
    }
    stream.openFrom = next;
    return andThen(
      andThen(this.#open(stream, next), () => this.#close(stream, next)),
      () => {
        stream.openFrom = next + 1;
        return this.advance(stream, openFrom);
      },
    );
  }

  /**
   * Slice n became runnable: crews whose stride made them wait get their backlog (unless they
   * wait for the close anyway), then the events that arrived early for n run in arrival order.
   */
  #open(stream: StreamSlices, slice: number): MaybePromise<void> {
    const state = stream.slices.get(slice);
    if (state === undefined) return;
    const due = this.#crews.filter((crew) => !crew.waitsForClose && state.backlog?.[crew.index] !== undefined);
    const queued = state.queued ?? [];
    state.queued = undefined;
    return andThen(
      runInOrder(due.length, (i) => {
        const crew = due[i] as CrewSchedule;
        return this.runHeld(stream, slice, state, crew, applyBacklogPolicy(take(state.backlog, crew), crew.backlogPolicy));
      }),
      () => runInOrder(queued.length, (i) => this.#runnable(stream, slice, state, queued[i] as EventEnvelope)),
    );
  }

  /**
   * Slice n closes: crews holding events for it run in run order, skips are reported, context
   * merges. A crew waiting on an offset-0 dependency gets its backlog and the slice's events as
   * one backlog; events held only because eager dispatch is off all run, in order.
   */
  #close(stream: StreamSlices, slice: number): MaybePromise<void> {
    const state = stream.slices.get(slice) as SliceState;
    this.#readiness.endWaits(state);
    const waiting = this.#crews.filter((crew) => crew.holdsUntilClose && (state.held?.[crew.index] ?? state.backlog?.[crew.index]) !== undefined);
    return andThen(
      runInOrder(waiting.length, (i) => {
        const crew = waiting[i] as CrewSchedule;
        const events = [...take(state.backlog, crew), ...take(state.held, crew)];
        const run = () => this.runHeld(stream, slice, state, crew, crew.waitsForClose ? applyBacklogPolicy(events, crew.backlogPolicy) : events);
        const first = crew.settleFirst;
        return andThen(
          runInOrder(first.length, (d) => {
            const dependency = first[d] as (typeof first)[number];
            return this.#target.settle?.(stream.id, slice + dependency.offset, [dependency.crewIndex]);
          }),
          run,
        );
      }),
      () => {
        for (const [crew, events] of state.skips) {
          this.#target.skipped(stream.id, slice, crew, state.decided[crew] ?? [], events);
        }
        if (state.hadEvents) this.#closedCount++;
        forgetBefore(stream, slice + 1 - this.#lookBack);
        const position = mergedThrough(stream, slice);
        const checkpoint = this.#target.checkpoints === true ? checkpointOf(stream, slice, position, this.#pointNow(stream), this.#pointBefore(stream), this.#crews) : undefined;
        const progress = { epoch0: stream.epoch0, position };
        const closed = this.#target.closeSlice(stream.id, slice, stream.epoch0 + (slice + 1) * this.#sliceMs, progress, checkpoint);
        if (!isPromiseLike(closed)) {
          stream.committedThrough = progress.position;
          return;
        }
        if (this.#target.closesInBackground === true) return this.#closeInBackground(stream, closed, progress.position);
        return closed.then(() => {
          stream.committedThrough = progress.position;
        });
      },
    );
  }

  /** Notes a close going on in the background; the stream's commit point moves when it ends. */
  #closeInBackground(stream: StreamSlices, closed: Promise<void>, position: number): void {
    stream.closing++;
    const tracked: Promise<void> = closed.then(
      () => {
        this.#closing.delete(tracked);
        stream.closing--;
        stream.committedThrough = Math.max(stream.committedThrough, position);
        noteAllCommitted(stream);
        if (stream.closing === 0 && stream.forgetWhenClosed) this.#engine.closedInBackground(stream);
      },
      (error: unknown) => {
        this.#closing.delete(tracked);
        stream.closing--;
        this.#closeFailure ??= { error };
      },
    );
    this.#closing.add(tracked);
  }

  /** Runs (or skips) the events a crew was holding for this slice. */
  runHeld(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule, events: readonly EventEnvelope[]): MaybePromise<void> {
    if (events.length === 0) return;
    if (this.#readiness.decide(stream, slice, state, crew).length > 0) {
      this.#readiness.skip(state, crew, events);
      return;
    }
    state.hadEvents = true;
    if (crew.lag > 0) ensureSlice(stream, slice + crew.lag, this.#crews.length);
    const only = [crew.index];
    return runInOrder(events.length, (i) => this.#target.dispatch(stream.id, slice, events[i] as EventEnvelope, only));
  }

  /** The state of a slice, made when an event (at input `position`) first needs it. */
  #state(stream: StreamSlices, slice: number, position: number): SliceState {
    const recent = stream.recent;
    // An event held for a later slice may be older than the one that made its state.
    if (recent !== undefined && recent.slice === slice && position >= recent.state.firstPosition) return recent.state;
    let state = stream.slices.get(slice);
    if (state === undefined) {
      state = newSliceState(this.#crews.length, position, this.#pointAt(stream, position));
      stream.slices.set(slice, state);
    } else if (position < state.firstPosition) {
      // A slice made ahead for a lagging crew's merge, or one a stride crew holds an older event
      // for, gets its input position from its first event.
      state.before = this.#pointAt(stream, position);
      state.firstPosition = position;
    }
    stream.recent = { slice, state };
    return state;
  }

  /** Where the engine stands now, on a stream. */
  #pointNow(stream: StreamSlices): PlacePoint {
    return { accepted: this.#engine.accepted(), maxTs: stream.maxTs, openFrom: stream.openFrom };
  }

  /** Where the engine stood before the event being placed (counted already when it was taken). */
  #pointBefore(stream: StreamSlices): PlacePoint {
    return { accepted: this.#engine.accepted() - 1, maxTs: stream.maxTsBefore, openFrom: stream.openFromBefore };
  }

  /**
   * Where the engine stood before the event at `position` was placed: it is being placed, or it
   * made a slice's state then (an event held and run later). Unknown otherwise.
   */
  #pointAt(stream: StreamSlices, position: number): PlacePoint | undefined {
    if (position === stream.placing) return this.#pointBefore(stream);
    for (const state of stream.slices.values()) if (state.firstPosition === position && state.before !== undefined) return state.before;
    return undefined;
  }

  #planFor(kind: string): KindPlan {
    let plan = this.#plans.get(kind);
    if (plan === undefined) {
      const crews = this.#crews.filter((crew) => crew.anyKind || crew.kinds.has(kind));
      plan = {
        crews,
        allAtOnce: crews.every((crew) => crew.unconditional) ? crews.map((crew) => crew.index) : undefined,
        lags: [...new Set(crews.filter((crew) => crew.lag > 0).map((crew) => crew.lag))],
      };
      this.#plans.set(kind, plan);
    }
    return plan;
  }
}
