import type { EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { andThen, isPromiseLike, runInOrder } from '../maybe-async.js';
import { messages } from '../messages.js';
import { canonicalUtc } from '../model/timestamp.js';
import { futureDecision } from '../replay/decision-keys.js';
import type { SliceTarget, SliceTiming } from './slice-target.js';
import { restoredStream, type EngineCheckpoint } from './engine-checkpoint.js';
import { applyBacklogPolicy, type CrewSchedule } from './crew-schedule.js';
import { CrewReadiness, waitKey, type WaitingCrew } from './crew-readiness.js';
import { SliceSequence } from './slice-sequence.js';
import { IdleStreams } from './idle-streams.js';
import { TickJournal, type Tick, type TickAdvance } from './tick-journal.js';
import { newStream, take, type StreamSlices } from './stream-slices.js';

export type { EventEnvelope };

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
 * The engine knows no handlers or I/O, only the `SliceTarget` it drives, and takes wall time from
 * the `Clock` it is given. Its parts: `SliceSequence` runs and closes slices, `CrewReadiness`
 * decides dependencies and waits, `IdleStreams` finds streams to forget, `TickJournal` journals
 * live ticks, `engine-checkpoint` takes and restores checkpoints. Calls are sequential: the
 * caller waits for a returned promise before passing the next event.
 */
export class SliceEngine {
  readonly #timing: SliceTiming;
  readonly #crews: readonly CrewSchedule[];
  readonly #target: SliceTarget;
  readonly #clock: Clock;
  readonly #streams = new Map<string, StreamSlices>();
  /** Events accepted so far: where in the input a wall-clock decision was taken. */
  #accepted = 0;
  readonly #ticks: TickJournal;
  readonly #journal: DecisionJournal | undefined;
  readonly #readiness: CrewReadiness;
  /** Streams idle past `streamIdleMs`; undefined without it. */
  readonly #idle: IdleStreams | undefined;
  /** The newest event time of any stream (batch-mode idleness is measured against it). */
  #newestTs = Number.NEGATIVE_INFINITY;
  /** The `ts` of the latest event placed in a slice, in arrival order. */
  #lastPlacedTs: string | undefined;
  /** Runs the streams' slices: their events, and their closes in order. */
  readonly #slices: SliceSequence;

  /**
   * @param clock - wall time: what closes slices in live mode, and what `max_future_ms` and `timeout:<ms>` waits measure
   * @param journal - where wall-clock decisions are recorded, or replayed from
   */
  constructor(timing: SliceTiming, crews: readonly CrewSchedule[], target: SliceTarget, clock: Clock, journal?: DecisionJournal) {
    this.#timing = timing;
    this.#crews = crews;
    this.#target = target;
    this.#clock = clock;
    this.#journal = journal;
    this.#ticks = new TickJournal(journal, timing.liveRate !== undefined);
    this.#readiness = new CrewReadiness(target, clock, timing.liveRate !== undefined);
    this.#idle = timing.streamIdleMs !== undefined ? new IdleStreams(timing.streamIdleMs) : undefined;
    this.#slices = new SliceSequence(timing.sliceMs, crews, target, this.#readiness, {
      accepted: () => this.#accepted,
      closedInBackground: (stream) => {
        if (this.#streams.get(stream.id) === stream) this.#forget(stream);
      },
    });
  }

  /** Slices closed so far, across streams, counting only slices that had events. */
  get slicesClosed(): number {
    return this.#slices.closedCount;
  }

  /** Takes the next event in arrival order. */
  accept(envelope: EventEnvelope): MaybePromise<void> {
    this.#slices.throwIfCloseFailed();
    // First the wall-clock decisions the journal says were taken at this point of the input (a
    // replay, or a successor scheduler going over its predecessor's input): ticks, ended waits.
    if (this.#ticks.replays || (this.#readiness.anyWaiting && this.#journal !== undefined)) return this.#takeAfterJournaled(envelope);
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
      if (this.#journal?.has(decision) || (this.#journal?.replaying !== true && envelope.tsMs - this.#clock.now() > this.#timing.maxFutureMs)) {
        return this.#refuseFuture(envelope, decision);
      }
    }
    const streamId = envelope.event.stream_id;
    const stream = this.#streams.get(streamId);
    const taken = stream === undefined ? this.#openStream(streamId, envelope) : this.#arrived(stream, envelope);
    if (this.#idle === undefined || this.#timing.liveRate !== undefined) return taken;
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
    const ahead = envelope.tsMs - (this.#journal?.replaying ? envelope.tsMs : this.#clock.now());
    const recorded = this.#journal?.has(decision) ? undefined : this.#journal?.record(decision);
    return andThen(recorded, () => this.#target.refused(envelope, messages.eventFromFuture(ahead, this.#timing.maxFutureMs ?? 0), this.#lastPlacedTs ?? canonicalUtc(0)));
  }

  /** An event of a known stream: skipped if a restart goes over it again, guarded, then placed. */
  #arrived(stream: StreamSlices, envelope: EventEnvelope): MaybePromise<void> {
    if (envelope.position <= stream.resumeThrough && envelope.origin.durable === true) return;
    stream.lastSeen = this.#timing.liveRate === undefined ? envelope.tsMs : this.#clock.now();
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
    if (!onOldTimeline && Math.abs(envelope.tsMs - (suspects.at(-1)?.tsMs ?? envelope.tsMs)) <= maxJump) {
      stream.suspects = undefined;
      const confirmed = [...suspects, envelope];
      return runInOrder(confirmed.length, (i) => this.#place(stream, confirmed[i] as EventEnvelope));
    }
    this.#refuseSuspects(stream);
    if (onOldTimeline) return this.#place(stream, envelope);
    stream.suspects = [envelope];
  }

  #refuseSuspects(stream: StreamSlices): void {
    for (const suspect of stream.suspects ?? []) {
      const newest = canonicalUtc(stream.maxTs);
      this.#target.refused(suspect, messages.timeJumpRefused(suspect.tsMs - stream.maxTs, this.#timing.maxJumpMs ?? 0, newest), newest);
    }
    stream.suspects = undefined;
  }

  /** Batch mode: streams with no event for `streamIdleMs` of the newest event time close their slices and are forgotten. */
  #forgetIdleByEventTime(): MaybePromise<void> {
    const idle = this.#idle;
    return idle === undefined || !idle.dueAt(this.#newestTs) ? undefined : this.#forgetIdle_(idle.byEventTime(this.#streams.values(), this.#newestTs, this.#mayForget));
  }

  #forgetIdle_(idle: readonly StreamSlices[]): MaybePromise<void> {
    return runInOrder(idle.length, (i) => {
      const stream = idle[i] as StreamSlices;
      return andThen(this.#slices.advance(stream, Number.POSITIVE_INFINITY), () => {
        if (stream.closing === 0) this.#forget(stream);
        else stream.forgetWhenClosed = true;
      });
    });
  }

  /** Nothing of the stream is pending: no held jump, no close under way, no crew waiting on a wall-clock timeout. */
  readonly #mayForget = (stream: StreamSlices): boolean => stream.suspects === undefined && stream.closing === 0 && !this.#readiness.waitsIn(stream);

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
    this.#slices.throwIfCloseFailed();
    if (this.#timing.liveRate === undefined) return;
    return andThen(this.#applyJournaledTicks(), () => (this.#journal?.replaying ? undefined : this.#tickByClock(eventTimeLimit)));
  }

  #tickByClock(eventTimeLimit: number | undefined): MaybePromise<void> {
    const { liveRate, sliceMs, latenessMs } = this.#timing;
    const now = this.#clock.now();
    const advanced: TickAdvance[] = [];
    for (const stream of this.#streams.values()) {
      let watermarkSlice = Math.floor(((now - stream.wallStart) * (liveRate ?? 1) - latenessMs) / sliceMs);
      if (eventTimeLimit !== undefined) watermarkSlice = Math.min(watermarkSlice, Math.floor((eventTimeLimit - latenessMs - stream.epoch0) / sliceMs));
      if (watermarkSlice > stream.openFrom) advanced.push([stream.id, watermarkSlice]);
    }
    return andThen(
      andThen(this.#ticks.record(this.#accepted, { advanced }), () => this.#advanceTo(advanced)),
      () => {
        const forgotten = this.#idle?.byWallTime(this.#streams.values(), now, this.#mayForget) ?? [];
        return andThen(
          andThen(this.#ticks.record(this.#accepted, { forgotten }), () => this.#forgetAll(forgotten)),
          () => this.#releaseDue(now),
        );
      },
    );
  }

  #forgetAll(streamIds: readonly string[]): void {
    for (const id of streamIds) {
      const stream = this.#streams.get(id);
      if (stream !== undefined) this.#forget(stream);
    }
  }

  /** Does what the journal says ticks did at this point of the input, and were not done here yet. */
  #applyJournaledTicks(): MaybePromise<void> {
    const tick: Tick | undefined = this.#ticks.nextJournaled(this.#accepted);
    if (tick === undefined) return;
    return andThen(this.#advanceTo(tick.advanced ?? []), () => {
      this.#forgetAll(tick.forgotten ?? []);
      return this.#applyJournaledTicks();
    });
  }

  /** Advances each named stream this process knows to its slice (a stream it does not know has nothing open). */
  #advanceTo(advances: readonly TickAdvance[]): MaybePromise<void> {
    return runInOrder(advances.length, (i) => {
      const [streamId, slice] = advances[i] as TickAdvance;
      const stream = this.#streams.get(streamId);
      return stream !== undefined && slice > stream.openFrom ? this.#slices.advance(stream, slice) : undefined;
    });
  }

  /** Live mode: crews whose wait has run out run what they hold now; the decision is journaled. */
  #releaseDue(now: number): MaybePromise<void> {
    if (this.#journal?.replaying) return;
    const due = this.#readiness.dueBy(now);
    // The decision is stored before it is acted on, so a replay finds every release that happened.
    return runInOrder(due.length, (i) => {
      const waiting = due[i] as WaitingCrew;
      return andThen(this.#journal?.record(waitKey(waiting, this.#accepted)), () => this.#release(waiting));
    });
  }

  /** Releases the waits the journal says were ended at this point of the input. */
  #releaseJournaled(): MaybePromise<void> {
    const due = this.#journal === undefined ? [] : this.#readiness.journaledDue(this.#journal, this.#accepted);
    return runInOrder(due.length, (i) => this.#release(due[i] as WaitingCrew));
  }

  #release(waiting: WaitingCrew): MaybePromise<void> {
    this.#readiness.release(waiting);
    const { stream, slice, state, crew } = waiting;
    return this.#slices.runHeld(stream, slice, state, crew, applyBacklogPolicy(take(state.held, crew), crew.backlogPolicy));
  }

  /** The input ended: every open slice closes, held and queued events run first. */
  finish(): MaybePromise<void> {
    const streams = [...this.#streams.values()];
    // A jump nothing confirmed by the end of the input stays refused.
    for (const stream of streams) this.#refuseSuspects(stream);
    return andThen(
      runInOrder(streams.length, (i) => this.#slices.advance(streams[i] as StreamSlices, Number.POSITIVE_INFINITY)),
      () => this.#slices.closed(),
    );
  }

  /**
   * A stream's first event, or its first since it was forgotten or the process restarted: a
   * stream the backend holds goes on from its epoch0 and last merged slice.
   */
  #openStream(streamId: string, envelope: EventEnvelope): MaybePromise<void> {
    return andThen(this.#target.openStream(streamId), (resume) => {
      const { sliceMs, latenessMs, liveRate } = this.#timing;
      const epoch0 = resume ? resume.epoch0 : envelope.tsMs;
      const now = this.#clock.now();
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
    return this.#slices.arrive(stream, slice, envelope);
  }

  #advanceThenArrive(stream: StreamSlices, watermarkSlice: number, slice: number, envelope: EventEnvelope): MaybePromise<void> {
    const advanced = this.#slices.advance(stream, watermarkSlice);
    return isPromiseLike(advanced) ? advanced.then(() => this.#slices.arrive(stream, slice, envelope)) : this.#slices.arrive(stream, slice, envelope);
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
      const now = this.#clock.now();
      const stream = restoredStream(checkpoint, this.#crews, {
        // Live ticks count event time from here, as from the newest event's.
        wallStart: liveRate !== undefined ? now - (checkpoint.maxTs - checkpoint.epoch0) / liveRate : now,
        lastSeen: liveRate === undefined ? checkpoint.maxTs : now,
      });
      this.#streams.set(checkpoint.streamId, stream);
      this.#accepted = checkpoint.accepted;
    });
  }
}
