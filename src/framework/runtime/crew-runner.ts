import { isIsolated } from '../discovery/crew-definition.js';
import type { EventEnvelope } from '../model/event.js';
import { andThen, isPromiseLike } from '../maybe-async.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import type { CommittedContext, ContextSnapshot, ContextWrite } from '../model/committed-context.js';
import type { Clock } from '../ports/clock.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ContextSink } from '../ports/sinks.js';
import { CrewGate, Lane, StreamLanes, type QueuedCall } from './lanes.js';
import { OutputSequence, type OutputSlot } from './output-sequence.js';
import { StreamContext } from '../context/stream-context.js';
import type { SliceTarget, StreamProgress, StreamResume } from '../scheduler/slice-target.js';
import type { CallScope } from './call-scope.js';
import type { OutputLimits } from './call-outcome.js';
import { CallExecutor } from './call-executor.js';
import { RouteTable, type CrewRuntime } from './route-table.js';
import type { RunOutput } from './run-output.js';
import { dependencyUnmetRecord, lateEventRecord, refusedEventRecord } from './slice-reports.js';
import { SliceCommits } from './slice-commits.js';

/**
 * How many merged slices of a stream may wait for their commit before the engine waits too: the
 * input runs at most this far ahead of what a backend that outlives the process holds.
 */
const COMMITS_AHEAD = 1;

/** Limits the runner enforces. */
export interface RunnerLimits extends OutputLimits {
  readonly contextMaxBytes: number;
  /** The most calls queued or running at once (`max_in_flight`); past it, `dispatch` makes the engine wait. */
  readonly maxInFlight: number;
}

/** What a runner works with besides the crews, the backend, the output and its limits. */
export interface RunnerServices {
  readonly journal: DecisionJournal;
  readonly clock: Clock;
  readonly observer?: RunObserver;
  /** The run's models, for `ctx.model()`. */
  readonly models?: ModelCalls;
  /**
   * Hands the output held so far to the sinks. Given when the backend persists: a slice's
   * actions then go out before its commit, so no commit covers output a crash could lose.
   */
  readonly flushOutput?: () => MaybePromise<void>;
  /**
   * Batch mode: output keeps the order of a run where every call ended at once (byte-identical
   * run to run). Otherwise a call's output goes out when it ends.
   */
  readonly ordered?: boolean;
  /** Told when a call that ended asynchronously (or a slice merged after it) left output to send. */
  readonly outputReady?: () => void;
  /** Where each merged slice's `__context` record goes, after its commit; none when absent. */
  readonly contextOut?: ContextSink;
}

/**
 * Runs crews' handlers for the slice engine (DESIGN §4, §8): routes each event to the handlers
 * its kind triggers, runs each call (a `CallExecutor` turns it into actions, context writes or
 * error records), and merges and commits each stream's slices. A crew that throws affects only
 * itself; after `maxErrors` consecutive errors on a stream it is disabled there.
 *
 * Calls run in lanes, one per (stream, crew): a lane runs one call at a time in arrival order,
 * lanes run concurrently. A synchronous call runs at once, as the engine dispatches it, and
 * costs no promise. A call of slice n starts only once slice n-1 is merged (it reads S(n-1));
 * a slice merges, in the background, once the calls whose writes it takes have ended: those of
 * the slice, and those of slice n - lag of a lagging crew. The engine never waits for a call,
 * only for room when `maxInFlight` calls are queued or running, and for a persistent backend
 * whose commits fall behind.
 */
export class CrewRunner implements SliceTarget {
  readonly closesInBackground = true;
  readonly #routes: RouteTable;
  readonly #crewCount: number;
  readonly #backend: ContextBackend;
  readonly #commits: SliceCommits;
  readonly #output: OutputSequence;
  readonly #limits: RunnerLimits;
  readonly #streams = new Map<string, StreamLanes>();
  /** By run-order index; a distributed runner holds only the crews it hosts. */
  readonly #crews: readonly (CrewRuntime | undefined)[];
  /** By run-order index, for crews with a `concurrency` cap. */
  readonly #gates: readonly (CrewGate | undefined)[];
  /** The most slices a crew lags. */
  readonly #maxLag: number;
  readonly #calls: CallExecutor;
  readonly #observer: RunObserver | undefined;
  readonly #outputReady: (() => void) | undefined;
  /** Calls queued or running asynchronously, across streams. */
  #pending = 0;
  /** The engine waiting for `#pending` to drop below `maxInFlight`. */
  #room: { readonly promise: Promise<void>; readonly resolve: () => void; readonly reject: (error: unknown) => void } | undefined;
  /** What broke the runner (a journal that could not store a decision); every waiter fails with it. */
  #broken: { readonly error: unknown } | undefined;

  /** @param crews - the crews to run, each at its run-order `index` (a runner may host only some) */
  constructor(crews: readonly CrewRuntime[], backend: ContextBackend, output: RunOutput, limits: RunnerLimits, services: RunnerServices) {
    const byIndex: (CrewRuntime | undefined)[] = [];
    const gates: (CrewGate | undefined)[] = [];
    for (const crew of crews) {
      byIndex[crew.index] = crew;
      // An isolated crew's isolates are its cap: a call waits there for one, while the calls its
      // lane sent ahead to an isolate go on in it (a gate here could hand that lane's turn away).
      if (crew.definition.concurrency !== undefined && !isIsolated(crew.definition)) gates[crew.index] = new CrewGate(crew.definition.concurrency);
    }
    this.#crews = byIndex;
    this.#gates = gates;
    this.#maxLag = Math.max(0, ...crews.map((crew) => crew.definition.lag));
    this.#observer = services.observer;
    this.#outputReady = services.outputReady;
    this.#routes = new RouteTable(crews);
    this.#crewCount = byIndex.length;
    this.#backend = backend;
    this.#output = new OutputSequence(output, services.ordered ?? false);
    this.#limits = limits;
    this.#calls = new CallExecutor(limits, { journal: services.journal, clock: services.clock, output: this.#output, models: services.models });
    this.#commits = new SliceCommits(crews, backend, this.#output, limits.contextMaxBytes, services);
  }

  /** Calls made per crew id (their event passed the payload schema). */
  callsPerCrew(): Map<string, number> {
    return this.#routes.callsPerCrew();
  }

  /**
   * Fails every call in flight (a promise that will never settle, or a run that must stop now):
   * each becomes a `handler_error` with `message(crew, method)`, its signal aborts, and the
   * stream goes on.
   *
   * @returns how many calls were abandoned
   */
  abandonInFlight(message: (crew: string, method: string) => string): number {
    return this.#calls.abandonInFlight(message);
  }

  /** The app is stopping: the signal of every call in flight, and of every call started from now on, aborts. */
  stop(): void {
    this.#calls.stop();
  }

  /**
   * A stream's merged context: from memory while the stream is open, else from the backend when
   * it answers at once (an idle stream the engine forgot keeps its context there).
   */
  snapshotOf(streamId: string): ContextSnapshot | undefined {
    const open = this.#streams.get(streamId);
    if (open !== undefined) return open.context.snapshot;
    const stored = this.#backend.load(streamId);
    return isPromiseLike(stored) ? undefined : stored?.context;
  }

  /** Loads the stream's committed context; a stream that has one (a restart, a stream back from idle) goes on from it. */
  openStream(streamId: string): MaybePromise<StreamResume | undefined> {
    return andThen(this.#backend.load(streamId), (committed: CommittedContext | undefined) => {
      const context = this.#newContext(committed?.context ?? {});
      for (const { crew, slice, writes } of committed?.lagging ?? []) {
        const index = this.#crews.findIndex((runtime) => runtime?.definition.id === crew);
        if (index >= 0) context.writesOf(slice, index).recordWire(writes);
      }
      this.#streams.set(streamId, new StreamLanes(streamId, context, this.#crewCount));
      if (committed?.epoch0 === undefined) return undefined;
      return { epoch0: committed.epoch0, slice: committed.slice, ...(committed.position !== undefined ? { position: committed.position } : {}) };
    });
  }

  forgetStream(streamId: string): void {
    this.#streams.delete(streamId);
    this.#observer?.streamForgotten?.(streamId);
  }

  refused(envelope: EventEnvelope, message: string, ts: string): void {
    this.#output.error(refusedEventRecord(envelope, message, ts));
  }

  /**
   * A distributed runner starts slice n of a stream from S(n-1), the snapshot the scheduler
   * merged: what the runner's crews wrote in earlier slices is in it, but for a lagging crew's
   * writes that merge later, which it keeps. The crews' error streaks on the stream carry on.
   */
  resetContext(streamId: string, snapshot: ContextSnapshot, slice: number): void {
    const stream = this.#streams.get(streamId);
    if (stream === undefined) this.#streams.set(streamId, new StreamLanes(streamId, this.#newContext(snapshot), this.#crewCount));
    else stream.context.rebase(snapshot, slice);
  }

  /** What a crew wrote in slice `slice` of a stream: its last write per key, as it travels. */
  crewWrites(streamId: string, slice: number, crew: number): ContextWrite[] {
    return (
      this.#streams
        .get(streamId)
        ?.context.peekWrites(slice + this.#crews[crew]!.definition.lag, crew)
        ?.toWire() ?? []
    );
  }

  /** A crew's error streak on a stream, and whether it is disabled there. */
  laneStatus(streamId: string, crew: number): { readonly consecutiveErrors: number; readonly disabled: boolean } {
    const lane = this.#streams.get(streamId)?.lanes[crew];
    return { consecutiveErrors: lane?.consecutiveErrors ?? 0, disabled: lane?.disabled ?? false };
  }

  /** Sets a crew's error streak and status on a stream: a distributed runner resuming a predecessor's work. */
  restoreLane(streamId: string, crew: number, status: { readonly consecutiveErrors: number; readonly disabled: boolean }): void {
    const stream = this.#streams.get(streamId)!;
    const lane = stream.lanes[crew] ?? this.#newLane(stream, this.#crews[crew]!);
    lane.consecutiveErrors = status.consecutiveErrors;
    lane.disabled = status.disabled;
    lane.disabledAt = status.disabled ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }

  isDisabled(streamId: string, crew: number, slice: number): boolean {
    const lane = this.#streams.get(streamId)?.lanes[crew];
    return lane !== undefined && lane.disabledAt <= slice;
  }

  skipped(streamId: string, slice: number, crew: number, unmet: readonly string[], events: readonly EventEnvelope[]): void {
    this.#output.error(dependencyUnmetRecord(streamId, slice, this.#crews[crew]!.definition.id, unmet, events));
  }

  late(envelope: EventEnvelope, slice: number, openFrom: number): void {
    this.#output.error(lateEventRecord(envelope, slice, openFrom));
  }

  dispatch(streamId: string, slice: number, envelope: EventEnvelope, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    const routes = this.#routes.routesFor(envelope.event.kind);
    // `routes` and `crews` are both in run order: walk them together.
    let wanted = 0;
    for (let r = 0; r < routes.length; r++) {
      const route = routes[r]!;
      while (wanted < crews.length && crews[wanted]! < route.crew.index) wanted++;
      if (wanted === crews.length) break;
      if (crews[wanted] !== route.crew.index) continue;
      const lane = stream.lanes[route.crew.index] ?? this.#newLane(stream, route.crew);
      if (lane.disabled) continue;
      const gate = this.#gates[route.crew.index];
      if (lane.idle && stream.mayStart(slice) && (gate === undefined || gate.open)) {
        // The synchronous path, inline: most calls end here.
        const outcome = this.#calls.call(route, lane, slice, envelope, this.#output);
        if (!isPromiseLike(outcome)) this.#calls.publish(outcome, envelope, this.#output);
        else {
          this.#running(lane, slice, outcome, envelope, this.#output.reserve());
          this.#count(stream, 1);
        }
        continue;
      }
      lane.push({ route, slice, envelope, slot: this.#output.reserve() });
      this.#count(stream, 1);
      this.#pump(lane);
    }
    if (stream.commitsQueued > COMMITS_AHEAD) return stream.committing;
    if (this.#pending < this.#limits.maxInFlight) return;
    return this.#roomForMore();
  }

  /**
   * Merges slice n once the calls whose writes it takes have ended: at once when they have (the
   * synchronous path), else in the background. Resolves when the merged slice is committed.
   */
  closeSlice(streamId: string, slice: number, endMs: number, progress: StreamProgress): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    this.#observer?.sliceClosed?.(streamId, slice, endMs);
    if (stream.closes.length === 0 && stream.mayMerge(slice)) return this.#commits.merge(stream, slice, endMs, progress, undefined);
    if (this.#broken !== undefined) throw this.#broken.error;
    const slot = this.#output.reserve();
    return new Promise((resolve, reject) => stream.closes.push({ slice, endMs, progress, slot, resolve, reject }));
  }

  settle(streamId: string, slice: number, crews: readonly number[]): MaybePromise<void> {
    const stream = this.#streams.get(streamId)!;
    if (stream.finished(slice, crews)) return;
    return new Promise((resolve) => stream.settleWaits.push({ slice, crews, resolve }));
  }

  #newContext(snapshot: ContextSnapshot): StreamContext {
    return new StreamContext(snapshot, this.#crewCount, this.#limits.contextMaxBytes, this.#maxLag);
  }

  #newLane(stream: StreamLanes, crew: CrewRuntime): Lane {
    const lane = new Lane(crew, stream);
    stream.lanes[crew.index] = lane;
    return lane;
  }

  /** Runs a call that waited in its lane; true when it goes on asynchronously (its lane is busy until it ends). */
  #start(lane: Lane, { route, slice, envelope, slot }: QueuedCall): boolean {
    const outcome = this.#calls.call(route, lane, slice, envelope, slot);
    if (!isPromiseLike(outcome)) {
      this.#calls.publish(outcome, envelope, slot);
      slot.done();
      return false;
    }
    this.#running(lane, slice, outcome, envelope, slot);
    return true;
  }

  /** A call goes on asynchronously: its lane is busy until it ends, its output waits in `held`. */
  #running(lane: Lane, slice: number, outcome: Promise<CallScope | undefined>, envelope: EventEnvelope, held: OutputSlot): void {
    lane.running = slice;
    const gate = this.#gates[lane.crew.index];
    if (gate !== undefined) gate.inFlight++;
    outcome.then(
      (scope) => {
        this.#calls.publish(scope, envelope, held);
        held.done();
        this.#ended(lane);
      },
      (error: unknown) => this.#break(error),
    );
  }

  /** Starts the lane's waiting calls while its crew's cap and the merges allow; the synchronous ones all run now. */
  #pump(lane: Lane): void {
    const stream = lane.stream;
    const gate = this.#gates[lane.crew.index];
    while (lane.running === undefined) {
      const call = lane.peek();
      if (call === undefined || !stream.mayStart(call.slice)) return;
      if (gate !== undefined && !gate.open && !lane.disabled) {
        gate.wait(lane);
        return;
      }
      lane.shift();
      if (this.#start(lane, call)) return;
      this.#count(stream, -1);
    }
  }

  /** A call that ran asynchronously ended: its lane goes on, a waiting lane of its crew may start, a slice may merge. */
  #ended(lane: Lane): void {
    lane.running = undefined;
    const stream = lane.stream;
    this.#count(stream, -1);
    this.#pump(lane);
    const gate = this.#gates[lane.crew.index];
    if (gate !== undefined) {
      gate.inFlight--;
      for (let next = gate.next(); next !== undefined; next = gate.next()) this.#pump(next);
    }
    this.#mergeReady(stream);
    this.#outputReady?.();
  }

  /** Merges the stream's closed slices whose calls have all ended, in order, and wakes what waited for them. */
  #mergeReady(stream: StreamLanes): void {
    for (;;) {
      for (let i = 0; i < stream.settleWaits.length; ) {
        const wait = stream.settleWaits[i]!;
        if (!stream.finished(wait.slice, wait.crews)) i++;
        else {
          stream.settleWaits.splice(i, 1);
          wait.resolve();
        }
      }
      const close = stream.closes[0];
      if (close === undefined || !stream.mayMerge(close.slice)) return;
      stream.closes.shift();
      Promise.resolve(this.#commits.merge(stream, close.slice, close.endMs, close.progress, close.slot)).then(close.resolve, close.reject);
      for (const lane of stream.lanes) if (lane !== undefined) this.#pump(lane);
    }
  }

  /** Counts calls queued or running; the engine waiting for room goes on once there is. */
  #count(stream: StreamLanes, delta: number): void {
    this.#pending += delta;
    stream.outstanding += delta;
    if (delta < 0 && this.#room !== undefined && this.#pending < this.#limits.maxInFlight) {
      const room = this.#room;
      this.#room = undefined;
      room.resolve();
    }
  }

  #roomForMore(): Promise<void> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken.error);
    if (this.#room === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#room = { promise, resolve, reject };
    }
    return this.#room.promise;
  }

  /** A failure no call owns (a journal that cannot store a decision): everything waiting on the runner fails with it. */
  #break(error: unknown): void {
    this.#broken ??= { error };
    this.#room?.reject(error);
    this.#room = undefined;
    for (const stream of this.#streams.values()) {
      for (const close of stream.closes.splice(0)) close.reject(error);
    }
  }
}
