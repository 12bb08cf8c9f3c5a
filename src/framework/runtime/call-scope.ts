import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { ACTION_TTL } from '../model/action.js';
import { jsonBytesOver } from '../model/json.js';
import { isUserKind } from '../model/patterns.js';
import type { EmittedAction } from '../ports/sinks.js';
import { CallAction, outputId } from './call-action.js';
import { newCallControl, type CallControl, type CallInternals, type OutputLimits } from './call-outcome.js';
import { checkContextKey, checkJson, frozenJsonCopy } from '../model/frozen-json.js';
import { DELETED, type CrewSliceWrites } from '../context/stream-context.js';
import type { ContextSnapshot, ContextWrite } from '../model/committed-context.js';
import type { EventEnvelope } from '../model/event.js';
import type { ContextView, CrewContext, EmitOptions, VectorCollection } from '../ports/crew-context.js';
import type { Route } from './route-table.js';
import type { Lane } from './lanes.js';
import type { ModelAccess } from '../model-calls/model-calls.js';
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { ReloadableKnobs } from '../discovery/crew-knobs.js';
import type { CallSite } from './call-site.js';

/** Action kinds already checked, shared by every call: a pattern runs once per kind. */
const checkedKinds = new Set<string>();
const NO_ACTIONS: readonly EmittedAction[] = Object.freeze([]);

/** Where a call is: running; ended; failed or abandoned (its output discarded); ended and output after it reported. */
const Phase = { Open: 0, Ended: 1, Discarded: 2, StrayReported: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** What a call needs of the runner that made it. */
export interface CallHost {
  readonly limits: OutputLimits;
  /** The run's models; absent in a runner made without them. */
  readonly models?: ModelAccess;
  /**
   * Something escaped a call: output after it ended, a rejection nobody handled, an exception
   * from a timer it set. Reported as the crew's error; the call's outcome stands.
   */
  strayFault(scope: CallScope, error: unknown): void;
}

/** Filled in by `CallScope`'s static block: only code inside the class can reach its private state. */
export const internal = {} as CallInternals<CallScope>;

/** `ctx.context`'s class, made in `CallScope`'s static block. */
let ScopeContextView: new (scope: CallScope) => ContextView;

/**
 * One handler call, and the `ctx` its handler gets: the documented `CrewContext` members and
 * nothing else (everything the framework needs of the call is private, reached through
 * `internal`). It holds the actions and writes the call made until it ends, so a failed call
 * leaves no trace.
 */
export class CallScope implements CrewContext {
  readonly #route: Route;
  readonly #slice: number;
  readonly #lane: Lane;
  readonly #envelope: EventEnvelope;
  readonly #host: CallHost;
  /** Keys and values written, flat (`[key, value, key, value, ...]`): most calls write one or two. */
  #writes: unknown[] | undefined;
  /** `ctx.context`, made on first use. */
  #view: ContextView | undefined;
  #actions: EmittedAction[] | undefined;
  /** One field, not three: a scope is made per call. */
  #phase: Phase = Phase.Open;
  /** What few calls need, made on first use (a lagging crew's at the start): most calls never need it. */
  #control: CallControl | undefined;

  /**
   * What a read sees cannot change during the call: the crew's calls on a stream run one at a
   * time, slice n-1 is merged before any call of slice n starts, and what may merge while it
   * runs (a lagging crew's) is taken as it was at the start.
   */
  constructor(route: Route, slice: number, envelope: EventEnvelope, lane: Lane, host: CallHost) {
    this.#route = route;
    this.#slice = slice;
    this.#lane = lane;
    this.#envelope = envelope;
    this.#host = host;
    // A lagging crew's call may start after slices it does not see have merged.
    if (lane.lag > 0) {
      const context = lane.stream.context;
      this.#controls().lagged = { base: context.snapshotBefore(slice), writes: Array.from({ length: lane.lag + 1 }, (_, i) => context.writesMergingIn(slice + i, route.crew.index)) };
    }
  }

  get crewId(): string {
    return this.#route.crew.definition.id;
  }

  get streamId(): string {
    return this.#envelope.event.stream_id;
  }

  get slice(): number {
    return this.#slice;
  }

  get context(): ContextView {
    return (this.#view ??= new ScopeContextView(this));
  }

  get signal(): AbortSignal {
    return (this.#controls().abort ??= new AbortController()).signal;
  }

  emit(kind: string, payload: unknown = {}, options?: EmitOptions): void {
    if (!this.#takesOutput('emit')) return;
    if (!checkedKinds.has(kind)) {
      if (typeof kind !== 'string' || !isUserKind(kind)) throw new HandlerOutputError(messages.emitInvalidKind(kind));
      if (checkedKinds.size < 10_000) checkedKinds.add(kind);
    }
    const ttl = options?.ttlMs ?? ACTION_TTL.default;
    if (!Number.isInteger(ttl) || ttl < ACTION_TTL.min || ttl > ACTION_TTL.max) throw new HandlerOutputError(messages.emitInvalidTtl(ttl));
    const limits = this.#host.limits;
    // Checked, not copied: the JSON made now is what every sink writes.
    checkJson(payload, 'emit', kind, limits.payloadMaxDepth);
    const payloadJson = JSON.stringify(payload);
    const over = jsonBytesOver(payloadJson, limits.payloadMaxBytes);
    if (over !== undefined) throw new HandlerOutputError(messages.emitPayloadTooLarge(kind, over, limits.payloadMaxBytes));
    const count = this.#actions?.length ?? 0;
    if (count >= limits.maxActionsPerCall) throw new HandlerOutputError(messages.tooManyActions(kind, limits.maxActionsPerCall));
    // The kind and ttl are checked above; ts and stream_id are the frozen event's, checked when it was decoded.
    const envelope = this.#envelope;
    const emitted = new CallAction(this.#lane.stream.actionLines.line(envelope.event.ts, kind, payloadJson, ttl), envelope, this.#route, this.#slice, count, kind, payload, ttl);
    // A literal, not `push` on `[]`: an empty array's first push reserves room for 17.
    if (this.#actions === undefined) this.#actions = [emitted];
    else this.#actions.push(emitted);
  }

  model(name?: string): LanguageModelV3 {
    return this.#models().languageModel(this.#site(), name);
  }

  recorded<T>(name: string, effect: () => T | Promise<T>): Promise<T> {
    return this.#models().recorded(this.#site(), name, effect);
  }

  embedder(name?: string): EmbeddingModelV3 {
    return this.#models().embeddingModel(this.#site(), name);
  }

  vectors(collection: string): VectorCollection {
    return this.#models().vectors(this.#site(), collection);
  }

  #models(): ModelAccess {
    const models = this.#host.models;
    if (models === undefined) throw new HandlerOutputError(messages.noModelsHere(this.crewId));
    return models;
  }

  #controls(): CallControl {
    return (this.#control ??= newCallControl());
  }

  #knobs(): ReloadableKnobs {
    const crew = this.#route.crew;
    return crew.knobs === undefined ? crew.definition : crew.knobs.forCall(this.streamId, this.#slice);
  }

  #abort(reason: unknown): void {
    const control = this.#controls();
    const controller = (control.abort ??= new AbortController());
    if (controller.signal.aborted) return;
    controller.abort(reason);
    for (const listener of control.abortListeners?.splice(0) ?? []) listener(reason);
  }

  #onAbort(listener: (reason: unknown) => void): () => void {
    const control = this.#controls();
    if (control.abort?.signal.aborted) {
      listener(control.abort.signal.reason);
      return () => undefined;
    }
    (control.abortListeners ??= []).push(listener);
    return () => {
      const listeners = control.abortListeners!;
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    };
  }

  #commitWrites(): void {
    const vectorWrites = this.#control?.vectorWrites;
    if (vectorWrites !== undefined) this.#host.models?.holdVectorWrites(this.#site(), this.#slice + this.#lane.lag, vectorWrites);
    const writes = this.#writes;
    if (writes === undefined) return;
    const target = this.#lane.stream.context.writesOf(this.#slice + this.#lane.lag, this.#route.crew.index);
    for (let i = 0; i < writes.length; i += 2) target.record(writes[i] as string, writes[i + 1]);
  }

  #ownWrites(): ContextWrite[] {
    const latest = new Map<string, unknown>();
    const writes = this.#writes ?? [];
    for (let i = 0; i < writes.length; i += 2) latest.set(writes[i] as string, writes[i + 1]);
    return [...latest].map(([key, value]): ContextWrite => (value === DELETED ? [key] : [key, value]));
  }

  #get(key: string): unknown {
    const value = this.#read(key);
    return value === DELETED ? undefined : value;
  }

  #has(key: string): boolean {
    const value = this.#read(key);
    return value !== undefined && value !== DELETED;
  }

  #set(key: string, value: unknown): void {
    if (!this.#takesOutput('context.set')) return;
    checkContextKey(key);
    if (value === undefined) throw new HandlerOutputError(messages.contextValueUndefined(key));
    this.#write(key, frozenJsonCopy(value, 'context.set', key, this.#host.limits.payloadMaxDepth));
  }

  #delete(key: string): void {
    if (!this.#takesOutput('context.delete')) return;
    checkContextKey(key);
    this.#write(key, DELETED);
  }

  #write(key: string, value: unknown): void {
    // A literal for the first write, as for actions: most calls write once.
    if (this.#writes === undefined) this.#writes = [key, value];
    else this.#writes.push(key, value);
  }

  #snapshot(): ContextSnapshot {
    const lane = this.#lane;
    const view: Record<string, unknown> = { ...(this.#control?.lagged?.base ?? lane.stream.context.snapshot) };
    const apply = (key: string, value: unknown) => {
      if (value === DELETED) delete view[key];
      else view[key] = value;
    };
    for (let merge = this.#slice; merge <= this.#slice + lane.lag; merge++) {
      for (const [key, value] of this.#crewWrites(merge)?.entries() ?? []) apply(key, value);
    }
    const writes = this.#writes ?? [];
    for (let i = 0; i < writes.length; i += 2) apply(writes[i] as string, writes[i + 1]);
    return Object.freeze(view);
  }

  #read(key: string): unknown {
    const writes = this.#writes;
    if (writes !== undefined) {
      for (let i = writes.length - 2; i >= 0; i -= 2) if (writes[i] === key) return writes[i + 1];
    }
    // A lagging crew's own writes not merged yet are under the slices they merge in: newest first.
    for (let merge = this.#slice + this.#lane.lag; merge >= this.#slice; merge--) {
      const earlier = this.#crewWrites(merge)?.latest(key);
      if (earlier !== undefined) return earlier;
    }
    return (this.#control?.lagged?.base ?? this.#lane.stream.context.snapshot)[key];
  }

  /** What this crew wrote earlier that merges in slice `merge`. */
  #crewWrites(merge: number): CrewSliceWrites | undefined {
    const lagged = this.#control?.lagged;
    return lagged === undefined ? this.#lane.stream.context.peekWrites(merge, this.#route.crew.index) : lagged.writes[merge - this.#slice];
  }

  #strayFault(error: unknown): void {
    if (this.#phase !== Phase.Discarded) this.#host.strayFault(this, error);
  }

  /**
   * Output after the call ended (from a timer, a promise nobody awaited) is dropped, and reported
   * once as the crew's error. It does not throw: a throw there would have nowhere to go but the
   * process.
   */
  #takesOutput(what: string): boolean {
    if (this.#phase === Phase.Open) return true;
    if (this.#phase === Phase.Ended) {
      this.#phase = Phase.StrayReported;
      this.#host.strayFault(this, new HandlerOutputError(messages.callEnded(this.crewId, what)));
    }
    return false;
  }

  /** The call as its model and vector calls see it: made once, on their first use. */
  #site(): CallSite {
    const control = this.#controls();
    if (control.site !== undefined) return control.site;
    const scope = this;
    const site: CallSite = {
      route: this.#route,
      lane: this.#lane,
      slice: this.#slice,
      crewId: this.crewId,
      streamId: this.streamId,
      envelope: this.#envelope,
      get signal() {
        return scope.signal;
      },
      get ended() {
        return scope.#phase !== Phase.Open;
      },
      knobs: () => this.#knobs(),
      nextModelCall: () => control.modelCalls++,
      nextEffect: () => control.effects++,
      nextVectorId: () => outputId(this.#envelope, this.#route, this.#slice, control.vectorIds++),
      holdVectorWrite: (write) => {
        if (this.#takesOutput('vectors')) (control.vectorWrites ??= []).push(write);
      },
      failWith: (verdict) => {
        control.verdict ??= verdict;
      },
    };
    control.site = site;
    return site;
  }

  static {
    // `ctx.context`: the stream's context as the call sees it (DESIGN §4), and nothing else. Here,
    // so it reads the call's private state without a member crew code could reach.
    ScopeContextView = class implements ContextView {
      readonly #scope: CallScope;
      constructor(scope: CallScope) {
        this.#scope = scope;
      }
      get<T = unknown>(key: string): T | undefined {
        return this.#scope.#get(key) as T | undefined;
      }
      has(key: string): boolean {
        return this.#scope.#has(key);
      }
      set(key: string, value: unknown): void {
        this.#scope.#set(key, value);
      }
      delete(key: string): void {
        this.#scope.#delete(key);
      }
      snapshot(): ContextSnapshot {
        return this.#scope.#snapshot();
      }
    };
    Object.assign(internal, {
      route: (scope) => scope.#route,
      lane: (scope) => scope.#lane,
      envelope: (scope) => scope.#envelope,
      knobs: (scope) => scope.#knobs(),
      ended: (scope) => scope.#phase !== Phase.Open,
      end: (scope, discarded = false) => {
        scope.#phase = discarded ? Phase.Discarded : Phase.Ended;
      },
      actions: (scope) => scope.#actions ?? NO_ACTIONS,
      commitWrites: (scope) => scope.#commitWrites(),
      ownWrites: (scope) => scope.#ownWrites(),
      abort: (scope, reason) => scope.#abort(reason),
      onAbort: (scope, listener) => scope.#onAbort(listener),
      failure: (scope) => scope.#control?.failure,
      fail: (scope, failure) => {
        scope.#controls().failure = failure;
      },
      verdict: (scope) => scope.#control?.verdict,
      failWith: (scope, verdict) => {
        scope.#controls().verdict ??= verdict;
      },
      pauseTimeout: (scope) => {
        const control = scope.#controls();
        control.paused = true;
        control.timeoutClock?.stop();
        return () => {
          control.paused = false;
          control.timeoutClock?.restart();
        };
      },
      setTimeoutClock: (scope, clock) => {
        const control = scope.#controls();
        control.timeoutClock = clock;
        return !control.paused;
      },
      faulting: (scope) => {
        const control = scope.#controls();
        return (control.faulting ??= { strayFault: (error) => scope.#strayFault(error) });
      },
      site: (scope) => scope.#site(),
    } satisfies CallInternals<CallScope>);
  }
}
