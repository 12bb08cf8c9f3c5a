import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { andThen, isPromiseLike } from '../maybe-async.js';
import { ERROR_KIND, ErrorReason, type ErrorDetails } from '../model/error-record.js';
import { timeoutDecision } from '../replay/decision-keys.js';
import { describeIssues, locateEnvelope, type Event, type EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { CallScope, internal, type CallHost } from './call-scope.js';
import type { CallFailure, OutputLimits } from './call-outcome.js';
import { describeThrown, isThrownInstance } from '../describe-thrown.js';
import { FrameworkVerdict } from './framework-verdict.js';
import type { Lane } from './lanes.js';
import type { Route } from './route-table.js';
import type { RunOutput } from './run-output.js';
import { runAsCall } from './stray-faults.js';
import type { ModelCalls } from '../model-calls/model-calls.js';

/**
 * Runs one handler call at a time for the runner (DESIGN §4): checks the event against the
 * handler's payload schema, gives the call its `CrewContext`, holds it to its `timeoutMs` (the
 * decision journaled), and turns its outcome into actions or error records, counting errors
 * towards `maxErrors` in the call's lane. Output that escapes a call after it ended, and calls
 * abandoned at a stop, are reported here too.
 */
export class CallExecutor {
  readonly #journal: DecisionJournal;
  readonly #clock: Clock;
  readonly #host: CallHost;
  /** Where records of faults that escaped a call go: they belong to no slot. */
  readonly #output: RunOutput;
  /** Async calls not settled yet, with what ends each one. */
  readonly #inFlight = new Map<CallScope, (ended: CallScope) => void>();
  /** Set by `stop()`: the signal of every call from now on is aborted with it. */
  #stopReason: Error | undefined;

  constructor(limits: OutputLimits, services: { readonly journal: DecisionJournal; readonly clock: Clock; readonly output: RunOutput; readonly models?: ModelCalls | undefined }) {
    this.#journal = services.journal;
    this.#clock = services.clock;
    this.#output = services.output;
    this.#host = { limits, strayFault: (scope, error) => this.#strayFault(scope, error), ...(services.models ? { models: services.models } : {}) };
  }

  /**
   * Fails every call in flight (a promise that will never settle, or a run that must stop now):
   * each becomes a `handler_error` with `message(crew, method)`, its signal aborts, and the
   * stream goes on.
   *
   * @returns how many calls were abandoned
   */
  abandonInFlight(message: (crew: string, method: string) => string): number {
    const abandoned = [...this.#inFlight].filter(([scope]) => !internal.ended(scope));
    for (const [scope, end] of abandoned) {
      const verdict = new FrameworkVerdict(message(scope.crewId, internal.route(scope).handler.method));
      end(this.#fail(scope, verdict, ErrorReason.HandlerError));
      internal.abort(scope, verdict);
    }
    return abandoned.length;
  }

  /**
   * The app is stopping: the signal of every call in flight, and of every call started from now
   * on, aborts, so model calls and fetches that honour it end now.
   */
  stop(): void {
    this.#stopReason ??= new DOMException('the app is stopping', 'AbortError');
    for (const scope of this.#inFlight.keys()) internal.abort(scope, this.#stopReason);
  }

  /**
   * One handler call. Returns its ended scope, or a promise of it for an async handler;
   * undefined when the payload schema turned the event away (already reported). Context writes
   * are recorded as soon as the call succeeds, so the crew's next call reads them.
   */
  call(route: Route, lane: Lane, slice: number, envelope: EventEnvelope, out: RunOutput): MaybePromise<CallScope | undefined> {
    const crew = route.crew;
    if (lane.disabled) return undefined;
    let event = envelope.event;
    if (route.handler.payload) {
      const parsed = route.handler.payload.safeParse(event.payload, { reportInput: true });
      if (!parsed.success) {
        this.#error(out, envelope, {
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
    route.calls++;
    const scope = new CallScope(route, slice, envelope, lane, this.#host);
    if (this.#stopReason !== undefined) internal.abort(scope, this.#stopReason);
    const limit = internal.knobs(scope).timeoutMs;
    if (limit === undefined) return this.#run(event, scope, undefined);
    const decision = timeoutDecision(route.crew.definition.id, route.handler.method, envelope.event.stream_id, slice, envelope.position);
    // A timeout the journal holds is repeated (a replay, or a runner re-running a slice); a
    // replay takes no other from the clock.
    if (this.#journal.has(decision)) return this.#timeOut(scope, limit, undefined);
    return this.#run(event, scope, this.#journal.replaying ? undefined : { limit, decision });
  }

  /** Calls the handler; with a deadline, a call that runs past it is abandoned and journaled. */
  #run(event: Event, scope: CallScope, deadline: { readonly limit: number; readonly decision: string } | undefined): MaybePromise<CallScope> {
    const started = deadline ? this.#clock.now() : 0;
    const route = internal.route(scope);
    let result: unknown;
    try {
      // Arguments, not a closure: a closure would make every call allocate a context for them.
      result = route.leavesWork ? runAsCall(internal.faulting(scope), route.call, event, scope) : route.call(event, scope);
    } catch (error) {
      return this.#fail(scope, error, ErrorReason.HandlerError);
    }
    if (!isPromiseLike(result)) {
      if (deadline && this.#clock.now() - started > deadline.limit) return this.#timeOut(scope, deadline.limit, deadline.decision);
      return this.#succeed(scope);
    }
    // From now on its calls run as themselves: what they leave running is theirs.
    route.leavesWork = !route.runsElsewhere;
    return this.#settle(scope, result, deadline, started);
  }

  /**
   * An async call: ends when its promise settles, or at its deadline. Apart from `#run`, whose
   * synchronous path would otherwise allocate these closures' context on every call.
   */
  #settle(scope: CallScope, result: Promise<unknown>, deadline: { readonly limit: number; readonly decision: string } | undefined, started: number): Promise<CallScope> {
    return new Promise<CallScope>((resolve, reject) => {
      let timer: AbortController | undefined;
      const end = (ended: CallScope) => {
        if (!this.#inFlight.delete(scope)) return;
        timer?.abort();
        resolve(ended);
      };
      this.#inFlight.set(scope, end);
      if (deadline) {
        // A journal that cannot store the decision fails the run: its replay could not be exact.
        const timeOut = () => Promise.resolve(this.#timeOut(scope, deadline.limit, deadline.decision)).then(end, reject);
        // On the run's clock, so a test's ManualClock runs a timeout out without waiting for it.
        const arm = (ms: number) => {
          timer?.abort();
          const armed = (timer = new AbortController());
          void this.#clock.sleep(ms, armed.signal).then(() => {
            if (!armed.signal.aborted) void timeOut();
          });
        };
        const counting = internal.setTimeoutClock(scope, {
          stop: () => timer?.abort(),
          restart: () => {
            if (!internal.ended(scope)) arm(deadline.limit);
            else timer?.abort();
          },
        });
        if (counting) arm(Math.max(0, deadline.limit - (this.#clock.now() - started)));
      }
      // A call that timed out or was abandoned has ended; what it settles to later is ignored.
      result.then(
        () => internal.ended(scope) || end(this.#succeed(scope)),
        (error: unknown) => internal.ended(scope) || end(this.#fail(scope, error, ErrorReason.HandlerError)),
      );
    });
  }

  /** Something escaped a call after the fact: the crew's error, counted like any other. */
  #strayFault(scope: CallScope, error: unknown): void {
    const { crew, handler } = internal.route(scope);
    const detail = isThrownInstance(error, HandlerOutputError) ? error.message : messages.strayFault(crew.definition.id, handler.method, describeThrown(error));
    this.#report(this.#output, internal.envelope(scope), scope, { reason: ErrorReason.HandlerError, error: new Error(detail), disabledCrew: internal.lane(scope).countError(scope.slice) }, detail);
  }

  /** A call ran past its limit: abandoned like a failure; the decision is journaled when taken now. */
  #timeOut(scope: CallScope, limit: number, decision: string | undefined): MaybePromise<CallScope> {
    if (internal.ended(scope)) return scope;
    internal.end(scope, true);
    const { crew, handler } = internal.route(scope);
    const message = messages.callTimedOut(crew.definition.id, handler.method, limit);
    internal.abort(scope, new DOMException(message, 'TimeoutError'));
    const failed = () => this.#failEnded(scope, new Error(message), ErrorReason.Timeout);
    // The decision is stored before anything acts on it: a replay, or a successor, must find every
    // timeout whose record went out.
    return decision === undefined ? failed() : andThen(this.#journal.record(decision), failed);
  }

  /** A call returned: its writes join the crew's writes of the slice; its error streak ends. */
  #succeed(scope: CallScope): CallScope {
    // A call that settles after it was abandoned leaves no trace.
    if (internal.ended(scope)) return scope;
    const verdict = internal.verdict(scope);
    if (verdict !== undefined) return this.#fail(scope, verdict, verdict.reason);
    internal.end(scope);
    internal.lane(scope).consecutiveErrors = 0;
    internal.commitWrites(scope);
    return scope;
  }

  /**
   * A call threw. Errors are counted here, at completion, so a crew this call disables runs no
   * further call; the error records are published later, in route order.
   */
  #fail(scope: CallScope, error: unknown, reason: CallFailure['reason']): CallScope {
    if (internal.ended(scope)) return scope;
    internal.end(scope, true);
    // A verdict from inside the call wins over what the handler made of it (rethrown, wrapped).
    const verdict = internal.verdict(scope) ?? (isThrownInstance(error, FrameworkVerdict) ? error : undefined);
    return verdict === undefined ? this.#failEnded(scope, error, reason) : this.#failEnded(scope, verdict, verdict.reason);
  }

  #failEnded(scope: CallScope, error: unknown, reason: CallFailure['reason']): CallScope {
    internal.fail(scope, { reason, error, disabledCrew: internal.lane(scope).countError(scope.slice) });
    return scope;
  }

  /** Publishes a call's actions, or its error records, to `out`. */
  publish(scope: CallScope | undefined, envelope: EventEnvelope, out: RunOutput): void {
    if (scope === undefined) return;
    const failure = internal.failure(scope);
    if (failure === undefined) {
      const actions = internal.actions(scope);
      for (let i = 0; i < actions.length; i++) out.action(actions[i]!);
      return;
    }
    const { crew, handler } = internal.route(scope);
    const id = crew.definition.id;
    // A call that failed with the stop's own reason was ended by the stop, not by its handler.
    if (failure.error === this.#stopReason && failure.error !== undefined) {
      this.#report(out, envelope, scope, failure, messages.callStopped(id, handler.method));
      return;
    }
    const detail = describeThrown(failure.error);
    const ours = failure.reason === ErrorReason.Timeout || isThrownInstance(failure.error, FrameworkVerdict);
    this.#report(out, envelope, scope, failure, ours ? detail : messages.handlerThrew(id, handler.method, detail));
  }

  /** A call's error record, and the crew's `disabled` record when the error disabled it. */
  #report(out: RunOutput, envelope: EventEnvelope, scope: CallScope, failure: CallFailure, message: string): void {
    const id = internal.route(scope).crew.definition.id;
    this.#error(out, envelope, { reason: failure.reason, message, crew: id, slice: scope.slice, event: envelope.event });
    if (failure.disabledCrew) {
      this.#error(out, envelope, { reason: ErrorReason.Disabled, message: messages.crewDisabled(id, internal.lane(scope).consecutiveErrors), crew: id, slice: scope.slice });
    }
  }

  #error(out: RunOutput, envelope: EventEnvelope, details: Omit<ErrorDetails, 'source'>): void {
    out.error({
      ts: envelope.event.ts,
      kind: ERROR_KIND,
      stream_id: envelope.event.stream_id,
      payload: { ...details, source: locateEnvelope(envelope) },
    });
  }
}
