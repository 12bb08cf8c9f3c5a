import { describeIssues, locateEnvelope, type Event, type EventEnvelope } from '../model/event.js';
import { ERROR_KIND, ErrorReason, type ErrorDetails } from '../model/error-record.js';
import { messages } from '../messages.js';
import { andThen, isPromiseLike } from '../maybe-async.js';
import type { Clock, CommittedContext, ContextBackend, ContextSnapshot, DecisionJournal, MaybePromise, RunObserver } from '../ports.js';
import { StreamContext } from '../context/stream-context.js';
import type { SliceTarget, StreamProgress, StreamResume } from '../scheduler/slice-target.js';
import { CallScope, type CallFailure, type CallHost, type OutputLimits } from './call-scope.js';
import { runAsCall } from './stray-faults.js';
import { HandlerOutputError } from '../errors.js';
import { describeThrown } from './describe-thrown.js';
import { RouteTable, type CrewRuntime, type Route } from './route-table.js';
import type { RunOutput } from './run-output.js';
import { contextTruncatedRecord, dependencyUnmetRecord, lateEventRecord, refusedEventRecord } from './slice-reports.js';

/** Limits the runner enforces. */
export interface RunnerLimits extends OutputLimits {
  readonly contextMaxBytes: number;
}

/**
 * Runs crews' handlers for the slice engine: routes each event to the handlers its kind
 * triggers, gives each call its `CrewContext`, and turns the outcome into actions, context
 * writes or error records. A crew that throws affects only itself; after `maxErrors`
 * consecutive errors it is disabled.
 *
 * Calls of different crews for one event run concurrently when handlers are async; their
 * actions are published in run order all the same, so output never depends on timing.
 */
export class CrewRunner implements SliceTarget {
  readonly #routes: RouteTable;
  readonly #crewCount: number;
  readonly #backend: ContextBackend;
  readonly #output: RunOutput;
  readonly #limits: RunnerLimits;
  readonly #contexts = new Map<string, StreamContext>();

  /** By run-order index; a distributed runner holds only the crews it hosts. */
  readonly #crews: readonly (CrewRuntime | undefined)[];

  readonly #journal: DecisionJournal;
  readonly #clock: Clock;
  readonly #observer: RunObserver | undefined;
  readonly #host: CallHost;
  readonly #flushOutput: (() => MaybePromise<void>) | undefined;
  /** Async calls not settled yet, with what ends each one. */
  readonly #inFlight = new Map<CallScope, (ended: CallScope) => void>();

  /** @param crews - the crews to run, each at its run-order `index` (a runner may host only some) */
  constructor(
    crews: readonly CrewRuntime[],
    backend: ContextBackend,
    output: RunOutput,
    limits: RunnerLimits,
    services: {
      readonly journal: DecisionJournal;
      readonly clock: Clock;
      readonly observer?: RunObserver;
      /**
       * Hands the output held so far to the sinks. Given when the backend persists: a slice's
       * actions then go out before its commit, so no commit covers output a crash could lose.
       */
      readonly flushOutput?: () => MaybePromise<void>;
    },
  ) {
    const byIndex: (CrewRuntime | undefined)[] = [];
    for (const crew of crews) byIndex[crew.index] = crew;
    this.#crews = byIndex;
    this.#journal = services.journal;
    this.#clock = services.clock;
    this.#observer = services.observer;
    this.#flushOutput = services.flushOutput;
    this.#routes = new RouteTable(crews);
    this.#crewCount = byIndex.length;
    this.#backend = backend;
    this.#output = output;
    this.#limits = limits;
    this.#host = { limits, strayFault: (scope, error) => this.#strayFault(scope, error) };
  }

  /**
   * Fails every call in flight (a promise that will never settle, or a run that must stop now):
   * each becomes a `handler_error` with `message(crew, method)`, and the stream goes on.
   *
   * @returns how many calls were abandoned
   */
  abandonInFlight(message: (crew: string, method: string) => string): number {
    const abandoned = [...this.#inFlight].filter(([scope]) => !scope.ended);
    for (const [scope, end] of abandoned) end(this.#fail(scope, new FrameworkVerdict(message(scope.crewId, scope.route.handler.method)), ErrorReason.HandlerError));
    return abandoned.length;
  }

  /**
   * A stream's merged context: from memory while the stream is open, else from the backend when
   * it answers at once (an idle stream the engine forgot keeps its context there).
   */
  snapshotOf(streamId: string): ContextSnapshot | undefined {
    const open = this.#contexts.get(streamId);
    if (open !== undefined) return open.snapshot;
    const stored = this.#backend.load(streamId);
    return isPromiseLike(stored) ? undefined : stored?.context;
  }

  /** Loads the stream's committed context; a stream that has one (a restart, a stream back from idle) goes on from it. */
  openStream(streamId: string): MaybePromise<StreamResume | undefined> {
    return andThen(this.#backend.load(streamId), (committed: CommittedContext | undefined) => {
      this.#contexts.set(streamId, new StreamContext(committed?.context ?? {}, this.#crewCount, this.#limits.contextMaxBytes));
      if (committed?.epoch0 === undefined) return undefined;
      return { epoch0: committed.epoch0, slice: committed.slice, ...(committed.position !== undefined ? { position: committed.position } : {}) };
    });
  }

  forgetStream(streamId: string): void {
    this.#contexts.delete(streamId);
  }

  refused(envelope: EventEnvelope, message: string, ts: string): void {
    this.#output.error(refusedEventRecord(envelope, message, ts));
  }

  /**
   * A distributed runner starts slice n of a stream from S(n-1), the snapshot the scheduler
   * merged; what the runner's crews wrote in earlier slices is in it.
   */
  resetContext(streamId: string, snapshot: ContextSnapshot): void {
    this.#contexts.set(streamId, new StreamContext(snapshot, this.#crewCount, this.#limits.contextMaxBytes));
  }

  /** What a crew wrote in a slice of a stream: its last write per key (`DELETED` for a deletion). */
  crewWrites(streamId: string, slice: number, crew: number): Iterable<[string, unknown]> {
    return this.#contexts.get(streamId)?.peekWrites(slice, crew)?.entries() ?? [];
  }

  isDisabled(crew: number): boolean {
    return this.#crews[crew]!.disabled;
  }

  skipped(streamId: string, slice: number, crew: number, unmet: readonly string[], events: readonly EventEnvelope[]): void {
    this.#output.error(dependencyUnmetRecord(streamId, slice, this.#crews[crew]!.definition.id, unmet, events));
  }

  dispatch(streamId: string, slice: number, envelope: EventEnvelope, crews: readonly number[]): MaybePromise<void> {
    const routes = this.#routes.routesFor(envelope.event.kind);
    const context = this.#contexts.get(streamId)!;
    // `routes` and `crews` are both in run order: walk them together.
    let wanted = 0;
    // Synchronous outcomes are published at once; after the first pending call, outcomes wait
    // in `ordered` so they are published in route order.
    let ordered: Array<MaybePromise<CallScope | undefined>> | undefined;
    let lastOfCrew: Map<CrewRuntime, Promise<unknown>> | undefined;
    for (const route of routes) {
      while (wanted < crews.length && crews[wanted]! < route.crew.index) wanted++;
      if (wanted === crews.length) break;
      if (crews[wanted] !== route.crew.index || route.crew.disabled) continue;
      const pendingSameCrew = lastOfCrew?.get(route.crew);
      const outcome = pendingSameCrew
        ? pendingSameCrew.then(() => this.#call(route, context, slice, envelope))
        : this.#call(route, context, slice, envelope);
      if (ordered === undefined && !isPromiseLike(outcome)) {
        this.#publish(outcome, envelope);
        continue;
      }
      (ordered ??= []).push(outcome);
      if (isPromiseLike(outcome)) (lastOfCrew ??= new Map()).set(route.crew, outcome);
    }
    if (ordered === undefined) return;
    return Promise.all(ordered).then((outcomes) => {
      for (const outcome of outcomes) this.#publish(outcome, envelope);
    });
  }

  closeSlice(streamId: string, slice: number, endMs: number, progress: StreamProgress): MaybePromise<void> {
    const merged = this.#contexts.get(streamId)!.close(slice);
    if (merged === undefined) return;
    if (merged.dropped.length > 0) this.#output.error(contextTruncatedRecord(streamId, slice, endMs, merged, this.#limits.contextMaxBytes));
    this.#observer?.contextMerged?.(streamId, slice, merged.size);
    if (this.#flushOutput === undefined) return this.#backend.commit(streamId, slice, merged.snapshot, progress);
    return andThen(this.#flushOutput(), () => this.#backend.commit(streamId, slice, merged.snapshot, progress));
  }

  late(envelope: EventEnvelope, slice: number, openFrom: number): void {
    this.#output.error(lateEventRecord(envelope, slice, openFrom));
  }

  /**
   * One handler call. Returns its ended scope, or a promise of it for an async handler;
   * undefined when the payload schema turned the event away (already reported). Context writes
   * are recorded as soon as the call succeeds, so the crew's next call reads them.
   */
  #call(route: Route, context: StreamContext, slice: number, envelope: EventEnvelope): MaybePromise<CallScope | undefined> {
    const crew = route.crew;
    if (crew.disabled) return undefined;
    let event = envelope.event;
    if (route.handler.payload) {
      const parsed = route.handler.payload.safeParse(event.payload, { reportInput: true });
      if (!parsed.success) {
        this.#error(envelope, {
          reason: ErrorReason.InvalidEvent,
          message: messages.handlerPayloadInvalid(crew.definition.id, route.handler.method, describeIssues(parsed.error)),
          crew: crew.definition.id,
          slice,
          event,
        });
        return undefined;
      }
      event = Object.freeze({ ...event, payload: parsed.data });
    }
    const scope = new CallScope(route, slice, envelope, context, this.#host);
    const limit = crew.definition.timeoutMs;
    if (limit === undefined) return this.#run(event, scope, undefined);
    const decision = timeoutDecision(route, envelope, slice);
    // A timeout the journal holds is repeated (a replay, or a runner re-running a slice); a
    // replay takes no other from the clock.
    if (this.#journal.has(decision)) return this.#timeOut(scope, limit, undefined);
    return this.#run(event, scope, this.#journal.replaying ? undefined : { limit, decision });
  }

  /** Calls the handler; with a deadline, a call that runs past it is abandoned and journaled. */
  #run(event: Event, scope: CallScope, deadline: { readonly limit: number; readonly decision: string } | undefined): MaybePromise<CallScope> {
    const started = deadline ? this.#clock.now() : 0;
    const route = scope.route;
    let result: unknown;
    try {
      // Arguments, not a closure: a closure would make every call allocate a context for them.
      result = route.leavesWork ? runAsCall(scope, route.call, event, scope) : route.call(event, scope);
    } catch (error) {
      return this.#fail(scope, error, ErrorReason.HandlerError);
    }
    if (!isPromiseLike(result)) {
      if (deadline && this.#clock.now() - started > deadline.limit) return this.#timeOut(scope, deadline.limit, deadline.decision);
      return this.#succeed(scope);
    }
    // From now on its calls run as themselves: what they leave running is theirs.
    route.leavesWork = true;
    return new Promise<CallScope>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const end = (ended: CallScope) => {
        if (!this.#inFlight.delete(scope)) return;
        if (timer !== undefined) clearTimeout(timer);
        resolve(ended);
      };
      this.#inFlight.set(scope, end);
      if (deadline) {
        // A journal that cannot store the decision fails the run: its replay could not be exact.
        const timeOut = () => Promise.resolve(this.#timeOut(scope, deadline.limit, deadline.decision)).then(end, reject);
        timer = setTimeout(timeOut, Math.max(0, deadline.limit - (this.#clock.now() - started)));
      }
      // A call that timed out or was abandoned has ended; what it settles to later is ignored.
      result.then(
        () => scope.ended || end(this.#succeed(scope)),
        (error: unknown) => scope.ended || end(this.#fail(scope, error, ErrorReason.HandlerError)),
      );
    });
  }

  /** Something escaped a call after the fact: the crew's error, counted like any other. */
  #strayFault(scope: CallScope, error: unknown): void {
    const { crew, handler } = scope.route;
    const detail = error instanceof HandlerOutputError ? error.message : messages.strayFault(crew.definition.id, handler.method, describeThrown(error));
    this.#report(scope.envelope, scope, { reason: ErrorReason.HandlerError, error: new Error(detail), disabledCrew: countError(crew) }, detail);
  }

  /** A call ran past its limit: abandoned like a failure; the decision is journaled when taken now. */
  #timeOut(scope: CallScope, limit: number, decision: string | undefined): MaybePromise<CallScope> {
    if (scope.ended) return scope;
    scope.end(true);
    const { crew, handler } = scope.route;
    const failed = () => this.#failEnded(scope, new Error(messages.callTimedOut(crew.definition.id, handler.method, limit)), ErrorReason.Timeout);
    // The decision is stored before anything acts on it: a replay, or a successor, must find every
    // timeout whose record went out.
    return decision === undefined ? failed() : andThen(this.#journal.record(decision), failed);
  }

  /** A call returned: its writes join the crew's writes of the slice; its error streak ends. */
  #succeed(scope: CallScope): CallScope {
    // A call that settles after it was abandoned leaves no trace.
    if (scope.ended) return scope;
    scope.end();
    scope.route.crew.consecutiveErrors = 0;
    scope.commitWrites();
    return scope;
  }

  /**
   * A call threw. Errors are counted here, at completion, so a crew this call disables runs no
   * further call; the error records are published later, in route order.
   */
  #fail(scope: CallScope, error: unknown, reason: CallFailure['reason']): CallScope {
    if (scope.ended) return scope;
    scope.end(true);
    return this.#failEnded(scope, error, reason);
  }

  #failEnded(scope: CallScope, error: unknown, reason: CallFailure['reason']): CallScope {
    scope.failure = { reason, error, disabledCrew: countError(scope.route.crew) };
    return scope;
  }

  /** Publishes a call's actions, or its error records. */
  #publish(scope: CallScope | undefined, envelope: EventEnvelope): void {
    if (scope === undefined) return;
    const { route, failure } = scope;
    if (failure === undefined) {
      for (const action of scope.actions) this.#output.action(action);
      return;
    }
    const detail = describeThrown(failure.error);
    const ours = failure.reason === ErrorReason.Timeout || failure.error instanceof FrameworkVerdict;
    this.#report(envelope, scope, failure, ours ? detail : messages.handlerThrew(route.crew.definition.id, route.handler.method, detail));
  }

  /** A call's error record, and the crew's `disabled` record when the error disabled it. */
  #report(envelope: EventEnvelope, scope: CallScope, failure: CallFailure, message: string): void {
    const crew = scope.route.crew;
    const id = crew.definition.id;
    this.#error(envelope, { reason: failure.reason, message, crew: id, slice: scope.slice, event: envelope.event });
    if (failure.disabledCrew) {
      this.#error(envelope, { reason: ErrorReason.Disabled, message: messages.crewDisabled(id, crew.consecutiveErrors), crew: id, slice: scope.slice });
    }
  }

  #error(envelope: EventEnvelope, details: Omit<ErrorDetails, 'source'>): void {
    this.#output.error({
      ts: envelope.event.ts,
      kind: ERROR_KIND,
      stream_id: envelope.event.stream_id,
      payload: { ...details, source: locateEnvelope(envelope) },
    });
  }
}

/** A call failed by the framework (abandoned), not by what its handler threw: its message stands alone. */
class FrameworkVerdict extends Error {}

/** Counts an error of a crew; true when it is the one that disables the crew (`maxErrors`). */
function countError(crew: CrewRuntime): boolean {
  crew.consecutiveErrors++;
  const disables = !crew.disabled && crew.consecutiveErrors >= crew.definition.maxErrors;
  if (disables) crew.disabled = true;
  return disables;
}

/** The journal key of a call's timeout: which handler, on which event of which slice. */
function timeoutDecision(route: Route, envelope: EventEnvelope, slice: number): string {
  return `timeout:${route.crew.definition.id}.${route.handler.method}:${envelope.event.stream_id}:${slice}:${envelope.position}`;
}
