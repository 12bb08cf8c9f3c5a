import { z } from 'zod';
import { describeIssues, type EventEnvelope } from '../model/event.js';
import { InputError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { andThen, isPromiseLike, runInOrder } from '../maybe-async.js';
import { messages } from '../messages.js';
import { canonicalUtc } from '../model/timestamp.js';
import { futureDecision, tickDecision, waitDecision } from '../replay/decision-keys.js';
import type { SliceTarget, SliceTiming } from './slice-target.js';
import type { EngineCheckpoint } from './engine-checkpoint.js';
import { applyBacklogPolicy, nextRunSlice, type CrewSchedule, type ScheduledDependency } from './crew-schedule.js';

export type { EventEnvelope };

/** What the engine keeps of one slice of one stream; kept after closing only for dependency look-back. */
interface SliceState {
  /** Events that arrived before the slice became runnable, in arrival order. */
  queued: EventEnvelope[] | undefined;
  /** Per crew: events of earlier slices its stride skipped, delivered when this slice opens. */
  backlog: Array<EventEnvelope[] | undefined> | undefined;
  /** Per crew: events of this slice held until it closes (offset-0 dependencies, or eager dispatch off). */
  held: Array<EventEnvelope[] | undefined> | undefined;
  /** The kinds of the slice's events, for event dependencies. */
  readonly kinds: Set<string>;
  /** Per crew: its unmet dependencies, once decided ([] = ready). */
  readonly decided: Array<readonly string[] | undefined>;
  /** Per crew that skips the slice: the events it did not process. */
  readonly skips: Map<number, EventEnvelope[]>;
  /** Crews whose wait (`timeout:<ms>`) ended before the slice closed: their calls now run at once. */
  readonly released: Set<number>;
  /** Whether any event ran in it (the summary counts such slices). */
  hadEvents: boolean;
  /** The input position of its first event: nothing before it is still open. */
  firstPosition: number;
  /** Where the engine stood just before that first event was placed: a checkpoint there resumes from it. */
  before: PlacePoint | undefined;
}

/** Where the engine stood between two events: what a successor restores to go on from there. */
interface PlacePoint {
  /** Events accepted so far. */
  readonly accepted: number;
  readonly maxTs: number;
  readonly openFrom: number;
}

/** The slicing state of one stream. */
interface StreamSlices {
  readonly id: string;
  /** `ts` of the first event received: slice 0 starts here. */
  readonly epoch0: number;
  /** Highest event time seen. */
  maxTs: number;
  /** `maxTs` and `openFrom` before the event being placed: where a checkpoint just before it stands. */
  maxTsBefore: number;
  openFromBefore: number;
  /** The lowest slice still open; every slice below it is closed and merged. */
  openFrom: number;
  readonly slices: Map<number, SliceState>;
  /** The state last looked up: most events fall in the same slice as the one before. */
  recent: { slice: number; state: SliceState } | undefined;
  /** Wall time when the first event arrived (live mode). */
  readonly wallStart: number;
  /** Events held by the jump guard until a later one confirms or refutes their jump. */
  suspects: EventEnvelope[] | undefined;
  /** When the stream last had an event: event time in batch mode, wall time in live mode. */
  lastSeen: number;
  /** The input position of its newest event. */
  lastPosition: number;
  /** The position of the event being placed, while it is (it is in no slice yet). */
  placing: number | undefined;
  /** Events at or before this position of a durable origin are merged already (a restart going over them). */
  readonly resumeThrough: number;
  /** Every event at or before this position is merged and committed. */
  committedThrough: number;
  /** Slices closed in the background (`SliceTarget.closesInBackground`) and not committed yet. */
  closing: number;
  /** Found idle with closes still under way: forgotten once they end, unless an event comes first. */
  forgetWhenClosed: boolean;
}

/** A crew held in an open slice under `timeout:<ms>`, and the wall time its wait ends. */
interface WaitingCrew {
  readonly stream: StreamSlices;
  readonly slice: number;
  readonly state: SliceState;
  readonly crew: CrewSchedule;
  readonly until: number;
}

/** Which crews an event kind triggers, split by whether they may run at once. */
interface KindPlan {
  /** Every triggered crew, in run order. */
  readonly crews: readonly CrewSchedule[];
  /** Their indexes, when all are unconditional: the whole plan is one dispatch. */
  readonly allAtOnce: readonly number[] | undefined;
  /** The lags of its lagging crews, each once: the slices their writes merge in must close. */
  readonly lags: readonly number[];
}

/**
 * The in-process slice engine (DESIGN §4): bins events into slices per stream, advances each
 * stream's watermark (highest event time minus lateness), closes the slices it passes, and
 * decides when each crew's call for an event may run and whether its dependencies are met.
 *
 * A call for slice n needs S(n-1), so it may run once every slice below n is closed. Events of
 * the lowest open slice therefore run the moment they arrive (eager dispatch); events further
 * ahead, which only lateness allows, wait until the slices below them close. A crew with an
 * offset-0 dependency runs its calls for n when n closes, after the crews it depends on; a crew
 * with a slice stride gets the events of skipped slices when its next run slice opens. Empty
 * slices cost nothing: closing jumps from one slice with events to the next.
 *
 * The engine is pure: it knows no handlers, clocks or I/O, only the `SliceTarget` it drives. Calls
 * are sequential: the caller waits for a returned promise before passing the next event.
 */
export class SliceEngine {
  readonly #timing: SliceTiming;
  readonly #crews: readonly CrewSchedule[];
  readonly #target: SliceTarget;
  readonly #clock: Clock | undefined;
  readonly #streams = new Map<string, StreamSlices>();
  readonly #plans = new Map<string, KindPlan>();
  /** How many closed slices a dependency may look back at. */
  readonly #lookBack: number;
  /** Whether any crew has an event dependency, so slices must remember their kinds. */
  readonly #tracksKinds: boolean;
  #slicesClosed = 0;
  /** Events accepted so far: where in the input a wall-clock decision was taken. */
  #accepted = 0;
  /** Ticks taken (or applied from the journal) since event number `#ticksAt`: the next tick's number. */
  #ticksAt = -1;
  #ticksTaken = 0;
  /** Whether journaled ticks are looked for at each event: in live mode (a successor) and in a replay. */
  readonly #replaysTicks: boolean;
  readonly #journal: DecisionJournal | undefined;
  /** Crews held under `timeout:<ms>` in an open slice, with the wall time their wait ends. */
  readonly #waiting = new Set<WaitingCrew>();
  /** The newest event time of any stream (batch-mode idleness is measured against it). */
  #newestTs = Number.NEGATIVE_INFINITY;
  /** The `ts` of the latest event placed in a slice, in arrival order. */
  #lastPlacedTs: string | undefined;
  /** When idle streams are next looked for (event time in batch mode, wall time in live mode). */
  #sweepAt = Number.NEGATIVE_INFINITY;
  /** Closes going on in the background, until committed. */
  readonly #closing = new Set<Promise<void>>();
  /** The first background close that failed: the run fails with it at the next step. */
  #closeFailure: { readonly error: unknown } | undefined;

  /**
   * @param clock - wall time, needed in live mode only
   * @param journal - where wall-clock decisions are recorded, or replayed from
   */
  constructor(timing: SliceTiming, crews: readonly CrewSchedule[], target: SliceTarget, clock?: Clock, journal?: DecisionJournal) {
    if (timing.liveRate !== undefined && clock === undefined) throw new TypeError('live mode needs a clock');
    this.#timing = timing;
    this.#crews = crews;
    this.#target = target;
    this.#clock = clock;
    this.#journal = journal;
    this.#replaysTicks = journal !== undefined && (timing.liveRate !== undefined || journal.replaying);
    this.#lookBack = Math.max(0, ...crews.flatMap((crew) => crew.dependencies.map((dep) => -dep.offset)));
    this.#tracksKinds = crews.some((crew) => crew.dependencies.some((dep) => dep.type === 'event'));
  }

  /** Slices closed so far, across streams, counting only slices that had events. */
  get slicesClosed(): number {
    return this.#slicesClosed;
  }

  /** Takes the next event in arrival order. */
  accept(envelope: EventEnvelope): MaybePromise<void> {
    if (this.#closeFailure !== undefined) throw this.#closeFailure.error;
    // First the wall-clock decisions the journal says were taken at this point of the input (a
    // replay, or a successor scheduler going over its predecessor's input): ticks, ended waits.
    if (this.#replaysTicks || (this.#waiting.size > 0 && this.#journal !== undefined)) return this.#takeAfterJournaled(envelope);
    return this.#take(envelope);
  }

  // The hot path's methods make no closures: V8 allocates a closure's context on entry to the
  // function that makes it, taken branch or not, so a closure there would cost every event.

  #takeAfterJournaled(envelope: EventEnvelope): MaybePromise<void> {
    return andThen(this.#applyJournaledTicks(), () => andThen(this.#releaseJournaled(), () => this.#take(envelope)));
  }

  #take(envelope: EventEnvelope): MaybePromise<void> {
    this.#accepted++;
    if (this.#timing.maxFutureMs !== undefined) {
      const decision = futureDecision(envelope.event.stream_id, envelope.position);
      if (this.#journal?.has(decision) || (this.#journal?.replaying !== true && envelope.tsMs - this.#clock!.now() > this.#timing.maxFutureMs)) {
        return this.#refuseFuture(envelope, decision);
      }
    }
    const streamId = envelope.event.stream_id;
    const stream = this.#streams.get(streamId);
    const taken = stream === undefined ? this.#openStream(streamId, envelope) : this.#arrived(stream, envelope);
    if (this.#timing.streamIdleMs === undefined || this.#timing.liveRate !== undefined) return taken;
    return isPromiseLike(taken) ? taken.then(this.#forgetIdle) : this.#forgetIdleByEventTime();
  }

  /** `#forgetIdleByEventTime`, bound once: no closure per event. */
  readonly #forgetIdle = (): MaybePromise<void> => this.#forgetIdleByEventTime();

  /**
   * The `ts` of the latest event placed in a slice, in arrival order: the deterministic time of
   * records about input that is not an event of its own (an invalid line). Events refused for
   * their clock never set it.
   */
  get lastPlacedTs(): string | undefined {
    return this.#lastPlacedTs;
  }

  /** Every event at or before this input position of a stream is merged and committed; Infinity for a stream forgotten as idle. */
  committedThrough(streamId: string): number {
    return this.#streams.get(streamId)?.committedThrough ?? Number.POSITIVE_INFINITY;
  }

  /** Live mode: an event stamped too far ahead of the wall clock; the decision is stored before it is acted on. */
  #refuseFuture(envelope: EventEnvelope, decision: string): MaybePromise<void> {
    const ahead = envelope.tsMs - (this.#journal?.replaying ? envelope.tsMs : this.#clock!.now());
    const recorded = this.#journal?.has(decision) ? undefined : this.#journal?.record(decision);
    return andThen(recorded, () => this.#target.refused(envelope, messages.eventFromFuture(ahead, this.#timing.maxFutureMs!), this.#lastPlacedTs ?? canonicalUtc(0)));
  }

  /** An event of a known stream: skipped if a restart goes over it again, guarded, then placed. */
  #arrived(stream: StreamSlices, envelope: EventEnvelope): MaybePromise<void> {
    if (envelope.position <= stream.resumeThrough && envelope.origin.durable === true) return;
    stream.lastSeen = this.#timing.liveRate === undefined ? envelope.tsMs : this.#clock!.now();
    stream.lastPosition = envelope.position;
    stream.forgetWhenClosed = false;
    const maxJump = this.#timing.maxJumpMs;
    stream.placing = envelope.position;
    const placed = maxJump !== undefined && (stream.suspects !== undefined || envelope.tsMs - stream.maxTs > maxJump) ? this.#guardJump(stream, envelope, maxJump) : this.#place(stream, envelope);
    if (isPromiseLike(placed)) return this.#placedLater(stream, placed);
    stream.placing = undefined;
  }

  /** Apart from `#arrived`, so the synchronous path captures nothing (no context object per event). */
  async #placedLater(stream: StreamSlices, placed: Promise<void>): Promise<void> {
    await placed;
    stream.placing = undefined;
  }

  /**
   * One bad clock must not make every later event of its stream late: an event that jumps more
   * than `maxJump` ahead of the stream's newest is held apart. The next event decides: back on
   * the old timeline, the held ones are refused; within `maxJump` of the last held one, the
   * jump is real (a long pause) and they all go on in arrival order; far from both, the held
   * ones are refused and it is held in turn.
   */
  #guardJump(stream: StreamSlices, envelope: EventEnvelope, maxJump: number): MaybePromise<void> {
    const suspects = stream.suspects;
    if (suspects === undefined) {
      stream.suspects = [envelope];
      return;
    }
    const onOldTimeline = envelope.tsMs - stream.maxTs <= maxJump;
    if (!onOldTimeline && Math.abs(envelope.tsMs - suspects[suspects.length - 1]!.tsMs) <= maxJump) {
      stream.suspects = undefined;
      const confirmed = [...suspects, envelope];
      return runInOrder(confirmed.length, (i) => this.#place(stream, confirmed[i]!));
    }
    this.#refuseSuspects(stream);
    if (onOldTimeline) return this.#place(stream, envelope);
    stream.suspects = [envelope];
  }

  #refuseSuspects(stream: StreamSlices): void {
    for (const suspect of stream.suspects ?? []) {
      const newest = canonicalUtc(stream.maxTs);
      this.#target.refused(suspect, messages.timeJumpRefused(suspect.tsMs - stream.maxTs, this.#timing.maxJumpMs!, newest), newest);
    }
    stream.suspects = undefined;
  }

  /** Batch mode: streams with no event for `streamIdleMs` of the newest event time close their slices and are forgotten. */
  #forgetIdleByEventTime(): MaybePromise<void> {
    return this.#newestTs < this.#sweepAt ? undefined : this.#sweepIdleByEventTime();
  }

  #sweepIdleByEventTime(): MaybePromise<void> {
    const idleMs = this.#timing.streamIdleMs!;
    this.#sweepAt = this.#newestTs + idleMs / 4;
    const idle = [...this.#streams.values()].filter((stream) => this.#newestTs - stream.lastSeen >= idleMs && this.#mayForget(stream));
    return runInOrder(idle.length, (i) =>
      andThen(this.#advance(idle[i]!, Number.POSITIVE_INFINITY), () => {
        if (idle[i]!.closing === 0) this.#forget(idle[i]!);
        else idle[i]!.forgetWhenClosed = true;
      }),
    );
  }

  /** Live mode: the streams idle for `streamIdleMs` of wall time, every slice closed, to forget now. */
  #idleByWallTime(now: number): string[] {
    const idleMs = this.#timing.streamIdleMs;
    if (idleMs === undefined || now < this.#sweepAt) return [];
    this.#sweepAt = now + idleMs / 4;
    const idle: string[] = [];
    for (const stream of this.#streams.values()) {
      const allClosed = [...stream.slices.keys()].every((slice) => slice < stream.openFrom);
      if (now - stream.lastSeen >= idleMs && allClosed && this.#mayForget(stream)) idle.push(stream.id);
    }
    return idle;
  }

  /** Nothing of the stream is pending: no held jump, no close under way, no crew waiting on a wall-clock timeout. */
  #mayForget(stream: StreamSlices): boolean {
    if (stream.suspects !== undefined || stream.closing > 0) return false;
    for (const waiting of this.#waiting) if (waiting.stream === stream) return false;
    return true;
  }

  #forget(stream: StreamSlices): void {
    this.#streams.delete(stream.id);
    this.#target.forgetStream?.(stream.id);
  }

  /**
   * Live mode: advances every stream's watermark by the wall time passed since its first event,
   * so slices close while a stream is idle. Does nothing in batch mode, nor in a replay, which
   * closes slices where the journal says the recorded run's ticks did.
   *
   * What a tick does is a journaled decision (`tick:<events accepted>:<n>`), stored before it is
   * acted on: the streams it advanced and the slices they reached, then the idle streams it
   * forgot. A successor scheduler going over the same input, or a replay, does the same at the
   * same point.
   *
   * @param eventTimeLimit - event time the input has not passed yet (a paced replay's next
   *   record, held back until it is due): no watermark goes beyond it, so a process starved of
   *   CPU, whose clock ran ahead of its input, closes no slice the input had not reached.
   */
  tick(eventTimeLimit?: number): MaybePromise<void> {
    if (this.#closeFailure !== undefined) throw this.#closeFailure.error;
    if (this.#timing.liveRate === undefined) return;
    return andThen(this.#applyJournaledTicks(), () => (this.#journal?.replaying ? undefined : this.#tickByClock(eventTimeLimit)));
  }

  #tickByClock(eventTimeLimit: number | undefined): MaybePromise<void> {
    const { liveRate, sliceMs, latenessMs } = this.#timing;
    const now = this.#clock!.now();
    const advanced: TickAdvance[] = [];
    for (const stream of this.#streams.values()) {
      let watermarkSlice = Math.floor(((now - stream.wallStart) * liveRate! - latenessMs) / sliceMs);
      if (eventTimeLimit !== undefined) watermarkSlice = Math.min(watermarkSlice, Math.floor((eventTimeLimit - latenessMs - stream.epoch0) / sliceMs));
      if (watermarkSlice > stream.openFrom) advanced.push([stream.id, watermarkSlice]);
    }
    return andThen(
      andThen(this.#recordTick({ advanced }), () => this.#advanceTo(advanced)),
      () => {
        const forgotten = this.#idleByWallTime(now);
        return andThen(
          andThen(this.#recordTick({ forgotten }), () => this.#forgetAll(forgotten)),
          () => this.#releaseDue(now),
        );
      },
    );
  }

  /** Journals what a tick is about to do, if it does anything. */
  #recordTick(tick: Tick): MaybePromise<void> {
    if ((tick.advanced ?? tick.forgotten ?? []).length === 0) return;
    const key = tickDecision(this.#accepted, this.#nextTick());
    this.#ticksTaken++;
    return this.#journal?.record(key, tick);
  }

  #forgetAll(streamIds: readonly string[]): void {
    for (const id of streamIds) {
      const stream = this.#streams.get(id);
      if (stream !== undefined) this.#forget(stream);
    }
  }

  /** The number of the next tick at this point of the input: ticks between two events are 0, 1, 2, ... */
  #nextTick(): number {
    if (this.#ticksAt !== this.#accepted) {
      this.#ticksAt = this.#accepted;
      this.#ticksTaken = 0;
    }
    return this.#ticksTaken;
  }

  /** Does what the journal says ticks did at this point of the input, and were not done here yet. */
  #applyJournaledTicks(): MaybePromise<void> {
    const journal = this.#journal;
    if (journal === undefined || !this.#replaysTicks) return;
    const key = tickDecision(this.#accepted, this.#nextTick());
    if (!journal.has(key)) return;
    this.#ticksTaken++;
    const parsed = TickSchema.safeParse(journal.value(key));
    if (!parsed.success) throw new InputError(messages.journalDecisionInvalid(key, '{"advanced": [[stream id, slice], ...]} or {"forgotten": [stream id, ...]}', describeIssues(parsed.error)));
    const tick: Tick = parsed.data;
    return andThen(this.#advanceTo(tick.advanced ?? []), () => {
      this.#forgetAll(tick.forgotten ?? []);
      return this.#applyJournaledTicks();
    });
  }

  /** Advances each named stream this process knows to its slice (a stream it does not know has nothing open). */
  #advanceTo(advances: readonly TickAdvance[]): MaybePromise<void> {
    return runInOrder(advances.length, (i) => {
      const [streamId, slice] = advances[i]!;
      const stream = this.#streams.get(streamId);
      return stream !== undefined && slice > stream.openFrom ? this.#advance(stream, slice) : undefined;
    });
  }

  /** Live mode: crews whose wait has run out run what they hold now; the decision is journaled. */
  #releaseDue(now: number): MaybePromise<void> {
    if (this.#journal?.replaying) return;
    const due = [...this.#waiting].filter((waiting) => waiting.until <= now);
    // The decision is stored before it is acted on, so a replay finds every release that happened.
    return runInOrder(due.length, (i) => andThen(this.#journal?.record(waitOf(due[i]!, this.#accepted)), () => this.#release(due[i]!)));
  }

  /** Releases the waits the journal says were ended at this point of the input. */
  #releaseJournaled(): MaybePromise<void> {
    const due = [...this.#waiting].filter((waiting) => this.#journal!.has(waitOf(waiting, this.#accepted)));
    return runInOrder(due.length, (i) => this.#release(due[i]!));
  }

  #release(waiting: WaitingCrew): MaybePromise<void> {
    this.#waiting.delete(waiting);
    const { stream, slice, state, crew } = waiting;
    state.released.add(crew.index);
    return this.#runHeld(stream, slice, state, crew, applyBacklogPolicy(take(state.held, crew), crew.backlogPolicy));
  }

  /** The input ended: every open slice closes, held and queued events run first. */
  finish(): MaybePromise<void> {
    const streams = [...this.#streams.values()];
    // A jump nothing confirmed by the end of the input stays refused.
    for (const stream of streams) this.#refuseSuspects(stream);
    return andThen(
      runInOrder(streams.length, (i) => this.#advance(streams[i]!, Number.POSITIVE_INFINITY)),
      () => this.#closed(),
    );
  }

  /** Resolves when every slice closed in the background is committed; rejects with the first failure. */
  async #closed(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all(this.#closing);
    if (this.#closeFailure !== undefined) throw this.#closeFailure.error;
  }

  /**
   * A stream's first event, or its first since it was forgotten or the process restarted: a
   * stream the backend holds goes on from its epoch0 and last merged slice.
   */
  #openStream(streamId: string, envelope: EventEnvelope): MaybePromise<void> {
    return andThen(this.#target.openStream(streamId), (resume) => {
      const { sliceMs, latenessMs, liveRate } = this.#timing;
      const epoch0 = resume ? resume.epoch0 : envelope.tsMs;
      const now = this.#clock?.now() ?? 0;
      const through = resume?.position ?? Number.NEGATIVE_INFINITY;
      const stream = newStream(streamId, epoch0, {
        // A resumed stream's watermark is where its merged slices end.
        maxTs: resume ? Math.max(epoch0, epoch0 + (resume.slice + 1) * sliceMs + latenessMs - 1) : envelope.tsMs,
        // Lateness keeps the slices just before epoch0 open for stragglers.
        openFrom: resume ? resume.slice + 1 : Math.floor(-latenessMs / sliceMs),
        // Live ticks count event time from here: for a resumed stream, from where this event is.
        wallStart: resume && liveRate !== undefined ? now - (envelope.tsMs - epoch0) / liveRate : now,
        lastSeen: liveRate === undefined ? envelope.tsMs : now,
        lastPosition: envelope.position,
        through,
      });
      this.#streams.set(streamId, stream);
      return this.#arrived(stream, envelope);
    });
  }

  #place(stream: StreamSlices, envelope: EventEnvelope): MaybePromise<void> {
    const { sliceMs, latenessMs } = this.#timing;
    stream.maxTsBefore = stream.maxTs;
    stream.openFromBefore = stream.openFrom;
    // Only placed events move time on: one held apart by the jump guard must not age every stream.
    if (envelope.tsMs > this.#newestTs) this.#newestTs = envelope.tsMs;
    this.#lastPlacedTs = envelope.event.ts;
    const slice = Math.floor((envelope.tsMs - stream.epoch0) / sliceMs);
    if (slice < stream.openFrom) {
      this.#target.late(envelope, slice, stream.openFrom);
      return;
    }
    if (envelope.tsMs > stream.maxTs) {
      stream.maxTs = envelope.tsMs;
      const watermarkSlice = Math.floor((stream.maxTs - latenessMs - stream.epoch0) / sliceMs);
      if (watermarkSlice > stream.openFrom) return this.#advanceThenArrive(stream, watermarkSlice, slice, envelope);
    }
    return this.#arrive(stream, slice, envelope);
  }

  #advanceThenArrive(stream: StreamSlices, watermarkSlice: number, slice: number, envelope: EventEnvelope): MaybePromise<void> {
    const advanced = this.#advance(stream, watermarkSlice);
    return isPromiseLike(advanced) ? advanced.then(() => this.#arrive(stream, slice, envelope)) : this.#arrive(stream, slice, envelope);
  }

  /** Runs an event of the lowest open slice now; queues one of a later slice. */
  #arrive(stream: StreamSlices, slice: number, envelope: EventEnvelope): MaybePromise<void> {
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
    for (let i = 0; i < lags.length; i++) this.#mergeSlice(stream, slice + lags[i]!);
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
        this.#startWait(stream, slice, state, crew);
      } else if (this.#decide(stream, slice, state, crew).length === 0) now.push(crew.index);
      else this.#skip(state, crew, [envelope]);
    }
    return now.length > 0 ? this.#target.dispatch(stream.id, slice, envelope, now) : undefined;
  }

  /**
   * Closes every slice below `openFrom`, in order: each opens (its held and queued events run),
   * then closes. The next slice is looked up at each step, since running a slice's events may
   * hold some of them for a later one.
   */
  #advance(stream: StreamSlices, openFrom: number): MaybePromise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const slice of stream.slices.keys()) if (slice >= stream.openFrom && slice < openFrom && slice < next) next = slice;
    if (next === Number.POSITIVE_INFINITY) {
      stream.openFrom = openFrom;
      this.#noteAllCommitted(stream);
      return this.#open(stream, openFrom);
    }
    stream.openFrom = next;
    return andThen(
      andThen(this.#open(stream, next), () => this.#close(stream, next)),
      () => {
        stream.openFrom = next + 1;
        return this.#advance(stream, openFrom);
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
        const crew = due[i]!;
        return this.#runHeld(stream, slice, state, crew, applyBacklogPolicy(take(state.backlog, crew), crew.backlogPolicy));
      }),
      () => runInOrder(queued.length, (i) => this.#runnable(stream, slice, state, queued[i]!)),
    );
  }

  /**
   * Slice n closes: crews holding events for it run in run order, skips are reported, context
   * merges. A crew waiting on an offset-0 dependency gets its backlog and the slice's events as
   * one backlog; events held only because eager dispatch is off all run, in order.
   */
  #close(stream: StreamSlices, slice: number): MaybePromise<void> {
    const state = stream.slices.get(slice)!;
    for (const waiting of this.#waiting) if (waiting.state === state) this.#waiting.delete(waiting);
    const waiting = this.#crews.filter((crew) => crew.holdsUntilClose && (state.held?.[crew.index] ?? state.backlog?.[crew.index]) !== undefined);
    return andThen(
      runInOrder(waiting.length, (i) => {
        const crew = waiting[i]!;
        const events = [...take(state.backlog, crew), ...take(state.held, crew)];
        const run = () => this.#runHeld(stream, slice, state, crew, crew.waitsForClose ? applyBacklogPolicy(events, crew.backlogPolicy) : events);
        const first = crew.settleFirst;
        return andThen(
          runInOrder(first.length, (d) => this.#target.settle?.(stream.id, slice + first[d]!.offset, [first[d]!.crewIndex])),
          run,
        );
      }),
      () => {
        for (const [crew, events] of state.skips) {
          this.#target.skipped(stream.id, slice, crew, state.decided[crew] ?? [], events);
        }
        if (state.hadEvents) this.#slicesClosed++;
        this.#forgetBefore(stream, slice + 1 - this.#lookBack);
        const position = this.#mergedThrough(stream, slice);
        const checkpoint = this.#target.checkpoints === true ? this.#checkpoint(stream, slice, position) : undefined;
        const progress = { epoch0: stream.epoch0, position };
        const closed = this.#target.closeSlice(stream.id, slice, stream.epoch0 + (slice + 1) * this.#timing.sliceMs, progress, checkpoint);
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
        this.#noteAllCommitted(stream);
        if (stream.closing === 0 && stream.forgetWhenClosed && this.#streams.get(stream.id) === stream) this.#forget(stream);
      },
      (error: unknown) => {
        this.#closing.delete(tracked);
        stream.closing--;
        this.#closeFailure ??= { error };
      },
    );
    this.#closing.add(tracked);
  }

  /** Nothing open, held or closing: every event the stream took is merged and committed, or was refused. */
  #noteAllCommitted(stream: StreamSlices): void {
    if (stream.placing !== undefined || stream.suspects !== undefined || stream.closing > 0) return;
    for (const slice of stream.slices.keys()) if (slice >= stream.openFrom) return;
    stream.committedThrough = stream.lastPosition;
  }

  /**
   * Once slice n is merged, the input position at or before which every event of the stream is
   * merged (or refused): just before the first event of a slice still open or held apart.
   */
  #mergedThrough(stream: StreamSlices, slice: number): number {
    let first = Number.POSITIVE_INFINITY;
    for (const [key, state] of stream.slices) if (key > slice && state.firstPosition < first) first = state.firstPosition;
    for (const suspect of stream.suspects ?? []) if (suspect.position < first) first = suspect.position;
    if (stream.placing !== undefined && stream.placing < first) first = stream.placing;
    return first === Number.POSITIVE_INFINITY ? stream.lastPosition : first - 1;
  }

  /**
   * The engine's state once slice `slice` closed, for a successor to go on from input `position
   * + 1` (`restore`). The count of events accepted up to there comes from the first event still
   * open; none while an event is held apart by the jump guard (its count is not kept).
   */
  #checkpoint(stream: StreamSlices, slice: number, position: number): EngineCheckpoint | undefined {
    if (stream.suspects !== undefined) return undefined;
    // As the engine stood after the event at `position`: before the one being placed (it made
    // this slice close), or before the first event still open, or now when nothing is open.
    let point: PlacePoint | undefined = { accepted: this.#accepted, maxTs: stream.maxTs, openFrom: stream.openFrom };
    if (stream.placing === position + 1) point = this.#pointBefore(stream);
    else for (const [key, state] of stream.slices) if (key > slice && state.firstPosition === position + 1) point = state.before;
    if (point === undefined) return undefined;
    const lookBack: EngineCheckpoint['lookBack'][number][] = [];
    const mergesAhead: number[] = [];
    for (const [key, state] of stream.slices) {
      if (key > slice) {
        // Made by `#mergeSlice` with no event of its own; one an event after `position` made, it remakes.
        if (state.firstPosition === Number.POSITIVE_INFINITY) mergesAhead.push(key);
        continue;
      }
      const skipped = [...state.skips.keys()].map((index) => this.#crews[index]!.id);
      if (state.kinds.size > 0 || skipped.length > 0) lookBack.push({ slice: key, kinds: [...state.kinds], skipped });
    }
    return { streamId: stream.id, epoch0: stream.epoch0, slice, position, ...point, lookBack, ...(mergesAhead.length > 0 ? { mergesAhead } : {}) };
  }

  /**
   * Goes on from a checkpoint instead of from the first event: the stream stands as it did after
   * the event at `position` (its watermark, its lowest open slice, how many events were taken),
   * and what a dependency looks back at is as the closed slices left it. Call before the first
   * event, with input read from `position + 1`: events after it in slices the checkpoint's
   * process had closed by then run again through those slices, as they did there (a distributed
   * target sends nothing for a committed slice), so later slices get what they got. Slices made
   * ahead for a lagging crew's merge are made again, so they close though no event comes for them.
   */
  restore(checkpoint: EngineCheckpoint): MaybePromise<void> {
    return andThen(this.#target.openStream(checkpoint.streamId), () => {
      const { liveRate } = this.#timing;
      const { streamId, epoch0, maxTs, openFrom, position } = checkpoint;
      const now = this.#clock?.now() ?? 0;
      const stream = newStream(streamId, epoch0, {
        maxTs,
        openFrom,
        // Live ticks count event time from here, as from the newest event's.
        wallStart: liveRate !== undefined ? now - (maxTs - epoch0) / liveRate : now,
        lastSeen: liveRate === undefined ? maxTs : now,
        lastPosition: position,
        through: position,
      });
      const byId = new Map(this.#crews.map((crew) => [crew.id, crew]));
      for (const closed of checkpoint.lookBack) {
        const state = this.#newState(Number.POSITIVE_INFINITY, undefined);
        for (const kind of closed.kinds) state.kinds.add(kind);
        for (const id of closed.skipped) if (byId.has(id)) state.skips.set(byId.get(id)!.index, []);
        stream.slices.set(closed.slice, state);
      }
      for (const slice of checkpoint.mergesAhead ?? []) this.#mergeSlice(stream, slice);
      this.#streams.set(streamId, stream);
      this.#accepted = checkpoint.accepted;
    });
  }

  /** Runs (or skips) the events a crew was holding for this slice. */
  #runHeld(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule, events: readonly EventEnvelope[]): MaybePromise<void> {
    if (events.length === 0) return;
    if (this.#decide(stream, slice, state, crew).length > 0) {
      this.#skip(state, crew, events);
      return;
    }
    state.hadEvents = true;
    if (crew.lag > 0) this.#mergeSlice(stream, slice + crew.lag);
    const only = [crew.index];
    return runInOrder(events.length, (i) => this.#target.dispatch(stream.id, slice, events[i]!, only));
  }

  /** A crew held for an offset-0 dependency under `timeout:<ms>` waits at most that long (live mode). */
  #startWait(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule): void {
    if (crew.waitTimeoutMs === undefined || !crew.waitsForClose || this.#timing.liveRate === undefined) return;
    for (const waiting of this.#waiting) if (waiting.state === state && waiting.crew === crew) return;
    this.#waiting.add({ stream, slice, state, crew, until: this.#clock!.now() + crew.waitTimeoutMs });
  }

  /** A crew's unmet dependencies in a slice, per its wait policy ([] = it runs); decided once per slice. */
  #decide(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule): readonly string[] {
    let unmet = state.decided[crew.index];
    if (unmet === undefined) {
      const missing = crew.dependencies.filter((dep) => !this.#satisfied(stream, slice, dep));
      const met = crew.dependencies.length - missing.length;
      // `timeout:<ms>` runs with what is met: by now waiting would not change it.
      const decisive = crew.waitPolicy === 'none' || crew.waitTimeoutMs !== undefined || (crew.waitPolicy === 'any' && (met > 0 || crew.dependencies.length === 0));
      unmet = decisive ? [] : missing.map((dep) => describeDependency(dep, slice + dep.offset));
      state.decided[crew.index] = unmet;
    }
    return unmet;
  }

  /**
   * `{crew, offset}`: the crew finished slice n + offset (slices before 0 count as finished; a
   * crew that skipped it, or is disabled, did not). `{event, offset}`: an event of that kind ran
   * in slice n + offset.
   */
  #satisfied(stream: StreamSlices, slice: number, dep: ScheduledDependency): boolean {
    const target = slice + dep.offset;
    if (dep.type === 'crew') {
      if (target < 0) return true;
      return !this.#target.isDisabled(stream.id, dep.crewIndex, target) && stream.slices.get(target)?.skips.has(dep.crewIndex) !== true;
    }
    return stream.slices.get(target)?.kinds.has(dep.event) === true;
  }

  #skip(state: SliceState, crew: CrewSchedule, events: readonly EventEnvelope[]): void {
    const skipped = state.skips.get(crew.index);
    if (skipped === undefined) state.skips.set(crew.index, [...events]);
    else skipped.push(...events);
  }

  /**
   * Makes sure slice `slice` will close, events or not: a lagging crew's writes merge there. It
   * holds no event, so it sets no input position a commit must stay behind.
   */
  #mergeSlice(stream: StreamSlices, slice: number): void {
    if (!stream.slices.has(slice)) stream.slices.set(slice, this.#newState(Number.POSITIVE_INFINITY, undefined));
  }

  /** The state of a slice, made when an event (at input `position`) first needs it. */
  #state(stream: StreamSlices, slice: number, position: number): SliceState {
    const recent = stream.recent;
    // An event held for a later slice may be older than the one that made its state.
    if (recent !== undefined && recent.slice === slice && position >= recent.state.firstPosition) return recent.state;
    let state = stream.slices.get(slice);
    if (state === undefined) {
      state = this.#newState(position, this.#pointAt(stream, position));
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

  /** Where the engine stood before the event being placed (counted already when it was taken). */
  #pointBefore(stream: StreamSlices): PlacePoint {
    return { accepted: this.#accepted - 1, maxTs: stream.maxTsBefore, openFrom: stream.openFromBefore };
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

  #newState(firstPosition: number, before: PlacePoint | undefined): SliceState {
    return {
      queued: undefined,
      backlog: undefined,
      held: undefined,
      kinds: new Set(),
      decided: new Array(this.#crews.length),
      skips: new Map(),
      released: new Set(),
      hadEvents: false,
      firstPosition,
      before,
    };
  }

  /** Drops the state of closed slices no dependency can look back at any more. */
  #forgetBefore(stream: StreamSlices, slice: number): void {
    for (const key of stream.slices.keys()) if (key < slice) stream.slices.delete(key);
    if (stream.recent !== undefined && stream.recent.slice < slice) stream.recent = undefined;
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

/** Adds an event to a crew's list in a per-crew table, creating what is missing. */
function hold(table: Array<EventEnvelope[] | undefined> | undefined, crews: number, crew: CrewSchedule, envelope: EventEnvelope): Array<EventEnvelope[] | undefined> {
  const lists = table ?? new Array<EventEnvelope[] | undefined>(crews);
  (lists[crew.index] ??= []).push(envelope);
  return lists;
}

/** Removes and returns a crew's list from a per-crew table. */
function take(table: Array<EventEnvelope[] | undefined> | undefined, crew: CrewSchedule): EventEnvelope[] {
  const list = table?.[crew.index] ?? [];
  if (table !== undefined) table[crew.index] = undefined;
  return list;
}

/** A stream's slicing state as it starts: from its first event, from the backend's commit, or from a checkpoint. */
function newStream(
  id: string,
  epoch0: number,
  start: { readonly maxTs: number; readonly openFrom: number; readonly wallStart: number; readonly lastSeen: number; readonly lastPosition: number; readonly through: number },
): StreamSlices {
  return {
    id,
    epoch0,
    maxTs: start.maxTs,
    maxTsBefore: start.maxTs,
    openFromBefore: start.openFrom,
    openFrom: start.openFrom,
    slices: new Map(),
    recent: undefined,
    wallStart: start.wallStart,
    suspects: undefined,
    lastSeen: start.lastSeen,
    lastPosition: start.lastPosition,
    placing: undefined,
    resumeThrough: start.through,
    committedThrough: start.through,
    closing: 0,
    forgetWhenClosed: false,
  };
}

/** A stream a tick advanced, and the slice it advanced to (its slices below it closed). */
type TickAdvance = [streamId: string, slice: number];
/** What a tick did, as the journal keeps it: streams it advanced, or idle streams it forgot. */
const TickSchema = z.union([z.strictObject({ advanced: z.array(z.tuple([z.string(), z.number().int()])) }), z.strictObject({ forgotten: z.array(z.string()) })]);
type Tick = { readonly advanced?: readonly TickAdvance[]; readonly forgotten?: readonly string[] };

/** The journal key of a waiting crew's wait ended early, after `accepted` input events. */
function waitOf(waiting: WaitingCrew, accepted: number): string {
  return waitDecision(waiting.crew.id, waiting.stream.id, waiting.slice, accepted);
}

function describeDependency(dep: ScheduledDependency, slice: number): string {
  return dep.type === 'crew' ? `crew ${dep.crew} has not finished slice ${slice}` : `no ${dep.event} event in slice ${slice}`;
}
