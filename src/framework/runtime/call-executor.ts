import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { andThen, isPromiseLike } from '../maybe-async.js';
import { ERROR_KIND, ErrorReason, type ErrorDetails } from '../model/error-record.js';
import { timeoutDecision } from '../replay/decision-keys.js';
import { describeIssues, locateEnvelope, type Event, type EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { HandlerContext } from './handler-context.js';
import { CallScope, type CallHost } from './call-scope.js';
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
    const abandoned = [...this.#inFlight].filter(([scope]) => !scope.ended);
    for (const [scope, end] of abandoned) {
      const verdict = new FrameworkVerdict(message(scope.crewId, scope.route.handler.method));
      end(this.#fail(scope, verdict, ErrorReason.HandlerError));
      scope.abort(verdict);
    }
    return abandoned.length;
  }

  /**
   * The app is stopping: the signal of every call in flight, and of every call started from now
   * on, aborts, so model calls and fetches that honour it end now.
   */
  stop(): void {
    this.#stopReason ??= new DOMException('the app is stopping', 'AbortError');
    for (const scope of this.#inFlight.keys()) scope.abort(this.#stopReason);
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
    if (this.#stopReason !== undefined) scope.abort(this.#stopReason);
    const limit = scope.knobs().timeoutMs;
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
    const route = scope.route;
    let result: unknown;
    try {
      // Arguments, not a closure: a closure would make every call allocate a context for them.
      const ctx = new HandlerContext(scope);
      result = route.leavesWork ? runAsCall(scope, route.call, event, ctx) : route.call(event, ctx);
    } catch (error) {
      return this.#fail(scope, error, ErrorReason.HandlerError);
    }
    if (!isPromiseLike(result)) {
      if (deadline && this.#clock.now() - started > deadline.limit) return this.#timeOut(scope, deadline.limit, deadline.decision);
      return this.#succeed(scope);
    }
    // From now on its calls run as themselves: what they leave running is theirs.
    route.leavesWork = true;
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
        const counting = scope.setTimeoutClock({
          stop: () => timer?.abort(),
          restart: () => {
            if (!scope.ended) arm(deadline.limit);
            else timer?.abort();
          },
        });
        if (counting) arm(Math.max(0, deadline.limit - (this.#clock.now() - started)));
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
    const detail = isThrownInstance(error, HandlerOutputError) ? error.message : messages.strayFault(crew.definition.id, handler.method, describeThrown(error));
    this.#report(this.#output, scope.envelope, scope, { reason: ErrorReason.HandlerError, error: new Error(detail), disabledCrew: scope.lane.countError(scope.slice) }, detail);
  }

  /** A call ran past its limit: abandoned like a failure; the decision is journaled when taken now. */
  #timeOut(scope: CallScope, limit: number, decision: string | undefined): MaybePromise<CallScope> {
    if (scope.ended) return scope;
    scope.end(true);
    const { crew, handler } = scope.route;
    const message = messages.callTimedOut(crew.definition.id, handler.method, limit);
    scope.abort(new DOMException(message, 'TimeoutError'));
    const failed = () => this.#failEnded(scope, new Error(message), ErrorReason.Timeout);
    // The decision is stored before anything acts on it: a replay, or a successor, must find every
    // timeout whose record went out.
    return decision === undefined ? failed() : andThen(this.#journal.record(decision), failed);
  }

  /** A call returned: its writes join the crew's writes of the slice; its error streak ends. */
  #succeed(scope: CallScope): CallScope {
    // A call that settles after it was abandoned leaves no trace.
    if (scope.ended) return scope;
    const verdict = scope.verdict;
    if (verdict !== undefined) return this.#fail(scope, verdict, verdict.reason);
    scope.end();
    scope.lane.consecutiveErrors = 0;
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
    // A verdict from inside the call wins over what the handler made of it (rethrown, wrapped).
    const verdict = scope.verdict ?? (isThrownInstance(error, FrameworkVerdict) ? error : undefined);
    return verdict === undefined ? this.#failEnded(scope, error, reason) : this.#failEnded(scope, verdict, verdict.reason);
  }

  #failEnded(scope: CallScope, error: unknown, reason: CallFailure['reason']): CallScope {
    scope.failure = { reason, error, disabledCrew: scope.lane.countError(scope.slice) };
    return scope;
  }

  /** Publishes a call's actions, or its error records, to `out`. */
  publish(scope: CallScope | undefined, envelope: EventEnvelope, out: RunOutput): void {
    if (scope === undefined) return;
    const { route, failure } = scope;
    if (failure === undefined) {
      const actions = scope.actions;
      for (let i = 0; i < actions.length; i++) out.action(actions[i]!);
      return;
    }
    const { id } = route.crew.definition;
    // A call that failed with the stop's own reason was ended by the stop, not by its handler.
    if (failure.error === this.#stopReason && failure.error !== undefined) {
      this.#report(out, envelope, scope, failure, messages.callStopped(id, route.handler.method));
      return;
    }
    const detail = describeThrown(failure.error);
    const ours = failure.reason === ErrorReason.Timeout || isThrownInstance(failure.error, FrameworkVerdict);
    this.#report(out, envelope, scope, failure, ours ? detail : messages.handlerThrew(id, route.handler.method, detail));
  }

  /** A call's error record, and the crew's `disabled` record when the error disabled it. */
  #report(out: RunOutput, envelope: EventEnvelope, scope: CallScope, failure: CallFailure, message: string): void {
    const id = scope.route.crew.definition.id;
    this.#error(out, envelope, { reason: failure.reason, message, crew: id, slice: scope.slice, event: envelope.event });
    if (failure.disabledCrew) {
      this.#error(out, envelope, { reason: ErrorReason.Disabled, message: messages.crewDisabled(id, scope.lane.consecutiveErrors), crew: id, slice: scope.slice });
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
