import type { VectorWrite } from '../model/vector.js';
import type { CrewSliceWrites } from '../context/stream-context.js';
import type { ContextSnapshot, ContextWrite } from '../model/committed-context.js';
import type { CallSite } from './call-site.js';
import type { CallFailureReason, FrameworkVerdict } from './framework-verdict.js';
import type { EventEnvelope } from '../model/event.js';
import type { EmittedAction } from '../ports/sinks.js';
import type { ReloadableKnobs } from '../discovery/crew-knobs.js';
import type { Lane } from './lanes.js';
import type { Route } from './route-table.js';
import type { FaultingCall } from './stray-faults.js';

/** What a call may hand out: payload and context values, by JSON size and nesting. */
export interface OutputLimits {
  readonly payloadMaxBytes: number;
  readonly payloadMaxDepth: number;
  /** The most actions one call may emit: a call's output is held until it ends. */
  readonly maxActionsPerCall: number;
}

/** Stops and restarts the clock of a call's `timeoutMs`. */
export interface TimeoutClock {
  stop(): void;
  restart(): void;
}

/** How a failed call failed: it threw, or it ran past its `timeoutMs`. */
export interface CallFailure {
  readonly reason: CallFailureReason;
  readonly error: unknown;
  /** Whether this failure disabled the crew. */
  readonly disabledCrew: boolean;
}

/** A lagging crew's call's view of the context, taken when it started. */
export interface LaggedView {
  readonly base: ContextSnapshot;
  readonly writes: readonly (CrewSliceWrites | undefined)[];
}

/** What few calls need: their abort signal, a timeout clock that waits may pause, a verdict, their model calls. */
export interface CallControl {
  abort: AbortController | undefined;
  /** Told when the call is aborted, without the cost of a signal and its listeners (`onAbort`). */
  abortListeners: ((reason: unknown) => void)[] | undefined;
  timeoutClock: TimeoutClock | undefined;
  paused: boolean;
  /** Set when the framework failed the call from inside (a model call over budget): it fails whatever the handler does. */
  verdict: FrameworkVerdict | undefined;
  /** Model calls made so far: the next one's number in its journal key. */
  modelCalls: number;
  /** Recorded effects run so far (`recorded`): the next one's number. */
  effects: number;
  /** Vector upserts and deletes, held until the call's slice merges. */
  vectorWrites: VectorWrite[] | undefined;
  /** Points upserted without an id so far: the next one's number in its id. */
  vectorIds: number;
  /**
   * A lagging crew's view as it was when the call started (slices may merge while it runs):
   * S(n-1), and its own writes by merge slice n .. n + lag. Undefined without lag: the call then
   * reads the context as it is, which cannot change while it runs.
   */
  lagged: LaggedView | undefined;
  /** Set when the call threw or rejected. */
  failure: CallFailure | undefined;
  /** The call as its model and vector calls see it, made on their first use. */
  site: CallSite | undefined;
  /** The call as stray-fault tracking sees it, made when it runs as its own async work. */
  faulting: FaultingCall | undefined;
}

/** A call's controls before it needs any. */
export function newCallControl(): CallControl {
  return {
    abort: undefined,
    abortListeners: undefined,
    timeoutClock: undefined,
    paused: false,
    verdict: undefined,
    modelCalls: 0,
    effects: 0,
    vectorWrites: undefined,
    vectorIds: 0,
    lagged: undefined,
    failure: undefined,
    site: undefined,
    faulting: undefined,
  };
}

/** The framework's side of a call (`CallScope`): what crew code holding the call as its `ctx` cannot reach. */
export interface CallInternals<Scope> {
  /** The handler this call runs. */
  route(scope: Scope): Route;
  /** Its crew's lane on its stream: where its error counts. */
  lane(scope: Scope): Lane;
  /** The event the call is for. */
  envelope(scope: Scope): EventEnvelope;
  /** The crew's reloadable knobs as they are for this call (`run --watch` may have reloaded them). */
  knobs(scope: Scope): ReloadableKnobs;
  /** Whether the call has ended (returned, thrown or been abandoned). */
  ended(scope: Scope): boolean;
  /**
   * Ends the call: later emits and writes (from a handler that kept `ctx`) are dropped. Those of
   * a call that failed or was abandoned (`discarded`) are dropped silently: its output is
   * discarded anyway, and a call abandoned at its timeout may well still be running.
   */
  end(scope: Scope, discarded?: boolean): void;
  /** The actions emitted, in order. */
  actions(scope: Scope): readonly EmittedAction[];
  /** Adds the call's writes to its crew's writes of the slice, where its next calls read them; its vector writes wait for the same merge. */
  commitWrites(scope: Scope): void;
  /** The call's own writes, the last per key, as they travel (`[key, value]`, `[key]` for a deletion). */
  ownWrites(scope: Scope): ContextWrite[];
  /** Aborts the call's signal (a timeout, a stop, an abandoned call); the first reason stays. */
  abort(scope: Scope, reason: unknown): void;
  /** Calls `listener` with the reason when the call is aborted (at once if it was); returns how to stop listening. */
  onAbort(scope: Scope, listener: (reason: unknown) => void): () => void;
  /** How the call failed; undefined unless it threw, rejected or timed out. */
  failure(scope: Scope): CallFailure | undefined;
  fail(scope: Scope, failure: CallFailure): void;
  /** The verdict the call was failed with from inside, if any. */
  verdict(scope: Scope): FrameworkVerdict | undefined;
  /** Fails the call from inside, whatever its handler does next. The first verdict stays. */
  failWith(scope: Scope, verdict: FrameworkVerdict): void;
  /**
   * The call waits for what will run it (an isolated crew's worker starting after a crash): its
   * timeout is not counted until the returned function is called, and then counts in full.
   */
  pauseTimeout(scope: Scope): () => void;
  /** The runner's clock of the call's `timeoutMs`, once it runs asynchronously with one; returns whether it counts now (not paused). */
  setTimeoutClock(scope: Scope, clock: TimeoutClock): boolean;
  /** The call as stray-fault tracking sees it (`runAsCall`). */
  faulting(scope: Scope): FaultingCall;
  /** The call as its model, effect and vector calls see it. */
  site(scope: Scope): CallSite;
}
