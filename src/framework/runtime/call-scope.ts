import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { ACTION_TTL } from '../model/action.js';
import { jsonBytesOver } from '../model/json.js';
import { isUserKind } from '../model/patterns.js';
import type { ContextSnapshot } from '../model/committed-context.js';
import type { EmittedAction } from '../ports/sinks.js';
import { CallAction } from './call-action.js';
import type { CallFailure, OutputLimits, TimeoutClock } from './call-outcome.js';
import { checkContextKey, checkJson, frozenJsonCopy } from '../model/frozen-json.js';
import { DELETED, type CrewSliceWrites } from '../context/stream-context.js';
import type { EventEnvelope } from '../model/event.js';
import type { ContextView, CrewContext, EmitOptions, VectorCollection } from '../ports/crew-context.js';
import type { VectorWrite } from '../model/vector.js';
import type { Route } from './route-table.js';
import type { Lane } from './lanes.js';
import type { FaultingCall } from './stray-faults.js';
import type { FrameworkVerdict } from './framework-verdict.js';
import type { ModelAccess } from '../model-calls/model-calls.js';
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { ReloadableKnobs } from '../discovery/crew-knobs.js';

/** Action kinds already checked, shared by every call: a pattern runs once per kind. */
const checkedKinds = new Set<string>();
const NO_ACTIONS: readonly EmittedAction[] = Object.freeze([]);

/** A lagging crew's call's view of the context, taken when it started. */
interface LaggedView {
  readonly base: ContextSnapshot;
  readonly writes: readonly (CrewSliceWrites | undefined)[];
}

/** What few calls need: their abort signal, a timeout clock that waits may pause, a verdict, their model calls. */
interface CallControl {
  abort: AbortController | undefined;
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
}

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

/**
 * One handler call: the `CrewContext` it was given, and the actions and writes it made, held
 * back until the call ends so a failed call leaves no trace.
 */
export class CallScope implements CrewContext, ContextView, FaultingCall {
  /** The handler this call runs. */
  readonly route: Route;
  readonly slice: number;
  /** Its crew's lane on its stream: where its error counts. */
  readonly lane: Lane;
  readonly #envelope: EventEnvelope;
  readonly #host: CallHost;
  /** Keys and values written, flat (`[key, value, key, value, ...]`): most calls write one or two. */
  #writes: unknown[] | undefined;
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
    this.route = route;
    this.slice = slice;
    this.lane = lane;
    this.#envelope = envelope;
    this.#host = host;
    // A lagging crew's call may start after slices it does not see have merged.
    if (lane.lag > 0) {
      const context = lane.stream.context;
      this.#controls().lagged = { base: context.snapshotBefore(slice), writes: Array.from({ length: lane.lag + 1 }, (_, i) => context.writesMergingIn(slice + i, route.crew.index)) };
    }
  }

  /** How the call failed; undefined unless it threw, rejected or timed out. */
  get failure(): CallFailure | undefined {
    return this.#control?.failure;
  }

  set failure(failure: CallFailure) {
    this.#controls().failure = failure;
  }

  /**
   * The call waits for what will run it (an isolated crew's worker starting after a crash): its
   * timeout is not counted until the returned function is called, and then counts in full, so
   * `timeoutMs` measures the handler, not the wait.
   */
  pauseTimeout(): () => void {
    const control = this.#controls();
    control.paused = true;
    control.timeoutClock?.stop();
    return () => {
      control.paused = false;
      control.timeoutClock?.restart();
    };
  }

  /**
   * The runner's clock of the call's `timeoutMs`, once it runs asynchronously with one; returns
   * whether it counts now (not paused).
   */
  setTimeoutClock(clock: TimeoutClock): boolean {
    const control = this.#controls();
    control.timeoutClock = clock;
    return !control.paused;
  }

  /**
   * Fails the call from inside, whatever its handler does next (it may catch what the framework
   * threw at it): a model call over budget, a replay that diverged. The first verdict stays.
   */
  failWith(verdict: FrameworkVerdict): void {
    this.#controls().verdict ??= verdict;
  }

  /** The verdict the call was failed with from inside, if any. */
  get verdict(): FrameworkVerdict | undefined {
    return this.#control?.verdict;
  }

  /** The crew's reloadable knobs as they are for this call (`run --watch` may have reloaded them). */
  knobs(): ReloadableKnobs {
    const crew = this.route.crew;
    return crew.knobs === undefined ? crew.definition : crew.knobs.forCall(this.streamId, this.slice);
  }

  /** Numbers the call's model calls, 0, 1, 2, ... in the order they start: their journal keys. */
  nextModelCall(): number {
    return this.#controls().modelCalls++;
  }

  /** Numbers the call's recorded effects, 0, 1, 2, ... in the order they start: their journal keys. */
  nextEffect(): number {
    return this.#controls().effects++;
  }

  /** The id of the call's next point upserted without one: the same in every run of the same input. */
  nextVectorId(): string {
    return this.outputId(this.#controls().vectorIds++);
  }

  /** Holds a vector upsert or delete until the call's slice merges; dropped if the call fails. */
  holdVectorWrite(write: VectorWrite): void {
    if (this.#isOpen('vectors')) (this.#controls().vectorWrites ??= []).push(write);
  }

  get signal(): AbortSignal {
    return (this.#controls().abort ??= new AbortController()).signal;
  }

  /** Aborts the call's signal (a timeout, a stop, an abandoned call); the first reason stays. */
  abort(reason: unknown): void {
    const controller = (this.#controls().abort ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(reason);
  }

  #controls(): CallControl {
    return (this.#control ??= {
      abort: undefined,
      timeoutClock: undefined,
      paused: false,
      verdict: undefined,
      modelCalls: 0,
      effects: 0,
      vectorWrites: undefined,
      vectorIds: 0,
      lagged: undefined,
      failure: undefined,
    });
  }

  get crewId(): string {
    return this.route.crew.definition.id;
  }

  get streamId(): string {
    return this.#envelope.event.stream_id;
  }

  get context(): ContextView {
    return this;
  }

  /** The actions emitted, in order. */
  get actions(): readonly EmittedAction[] {
    return this.#actions ?? NO_ACTIONS;
  }

  /** Adds this call's writes to its crew's writes of the slice, where its next calls read them; its vector writes wait for the same merge. */
  commitWrites(): void {
    const vectorWrites = this.#control?.vectorWrites;
    if (vectorWrites !== undefined) this.#host.models?.holdVectorWrites(this, this.slice + this.lane.lag, vectorWrites);
    const writes = this.#writes;
    if (writes === undefined) return;
    const target = this.lane.stream.context.writesOf(this.slice + this.lane.lag, this.route.crew.index);
    for (let i = 0; i < writes.length; i += 2) target.record(writes[i] as string, writes[i + 1]);
  }

  /**
   * Ends the call: later emits and writes (from a handler that kept `ctx`) are dropped. Those of
   * a call that failed or was abandoned (`discarded`) are dropped silently: its output is
   * discarded anyway, and a call abandoned at its timeout may well still be running.
   */
  end(discarded = false): void {
    this.#phase = discarded ? Phase.Discarded : Phase.Ended;
  }

  /** Whether the call has ended (returned, thrown or been abandoned). */
  get ended(): boolean {
    return this.#phase !== Phase.Open;
  }

  /** The event the call is for. */
  get envelope(): EventEnvelope {
    return this.#envelope;
  }

  strayFault(error: unknown): void {
    if (this.#phase !== Phase.Discarded) this.#host.strayFault(this, error);
  }

  emit(kind: string, payload: unknown = {}, options?: EmitOptions): void {
    if (!this.#isOpen('emit')) return;
    if (!checkedKinds.has(kind)) {
      if (typeof kind !== 'string' || !isUserKind(kind)) throw new HandlerOutputError(messages.emitInvalidKind(kind));
      if (checkedKinds.size < 10_000) checkedKinds.add(kind);
    }
    const ttl = options?.ttlMs ?? ACTION_TTL.default;
    if (!Number.isInteger(ttl) || ttl < ACTION_TTL.min || ttl > ACTION_TTL.max) throw new HandlerOutputError(messages.emitInvalidTtl(ttl));
    // Checked, not copied: the JSON made now is what every sink writes.
    checkJson(payload, 'emit', kind, this.#host.limits.payloadMaxDepth);
    const payloadJson = JSON.stringify(payload);
    const over = jsonBytesOver(payloadJson, this.#host.limits.payloadMaxBytes);
    if (over !== undefined) throw new HandlerOutputError(messages.emitPayloadTooLarge(kind, over, this.#host.limits.payloadMaxBytes));
    const event = this.#envelope.event;
    const count = this.#actions?.length ?? 0;
    if (count >= this.#host.limits.maxActionsPerCall) throw new HandlerOutputError(messages.tooManyActions(kind, this.#host.limits.maxActionsPerCall));
    // The kind and ttl are checked above; ts and stream_id are the frozen event's, checked when it was decoded.
    const emitted = new CallAction(this.lane.stream.actionLines.line(event.ts, kind, payloadJson, ttl), this, count, kind, payload, ttl);
    // A literal, not `push` on `[]`: an empty array's first push reserves room for 17.
    if (this.#actions === undefined) this.#actions = [emitted];
    else this.#actions.push(emitted);
  }

  model(name?: string): LanguageModelV3 {
    return this.#models().languageModel(this, name);
  }

  recorded<T>(name: string, effect: () => T | Promise<T>): Promise<T> {
    return this.#models().recorded(this, name, effect);
  }

  embedder(name?: string): EmbeddingModelV3 {
    return this.#models().embeddingModel(this, name);
  }

  vectors(collection: string): VectorCollection {
    return this.#models().vectors(this, collection);
  }

  #models(): ModelAccess {
    const models = this.#host.models;
    if (models === undefined) throw new HandlerOutputError(messages.noModelsHere(this.crewId));
    return models;
  }

  get<T = unknown>(key: string): T | undefined {
    const value = this.#read(key);
    return value === DELETED ? undefined : (value as T | undefined);
  }

  has(key: string): boolean {
    const value = this.#read(key);
    return value !== undefined && value !== DELETED;
  }

  set(key: string, value: unknown): void {
    if (!this.#isOpen('context.set')) return;
    checkContextKey(key);
    if (value === undefined) throw new HandlerOutputError(messages.contextValueUndefined(key));
    this.#write(key, frozenJsonCopy(value, 'context.set', key, this.#host.limits.payloadMaxDepth));
  }

  delete(key: string): void {
    if (!this.#isOpen('context.delete')) return;
    checkContextKey(key);
    this.#write(key, DELETED);
  }

  #write(key: string, value: unknown): void {
    // A literal for the first write, as for actions: most calls write once.
    if (this.#writes === undefined) this.#writes = [key, value];
    else this.#writes.push(key, value);
  }

  snapshot(): ContextSnapshot {
    const view: Record<string, unknown> = { ...(this.#control?.lagged?.base ?? this.lane.stream.context.snapshot) };
    const apply = (key: string, value: unknown) => {
      if (value === DELETED) delete view[key];
      else view[key] = value;
    };
    for (let merge = this.slice; merge <= this.slice + this.lane.lag; merge++) {
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
    for (let merge = this.slice + this.lane.lag; merge >= this.slice; merge--) {
      const earlier = this.#crewWrites(merge)?.latest(key);
      if (earlier !== undefined) return earlier;
    }
    return (this.#control?.lagged?.base ?? this.lane.stream.context.snapshot)[key];
  }

  /** What this crew wrote earlier that merges in slice `merge`. */
  #crewWrites(merge: number): CrewSliceWrites | undefined {
    const lagged = this.#control?.lagged;
    return lagged === undefined ? this.lane.stream.context.peekWrites(merge, this.route.crew.index) : lagged.writes[merge - this.slice];
  }

  /** The deterministic id of the call's `index`-th action (or vector point): the same in every run of the same input. */
  outputId(index: number): string {
    return `${this.streamId}:${this.slice}:${this.crewId}.${this.route.handler.method}:${this.#envelope.position}:${index}`;
  }

  /**
   * Output after the call ended (from a timer, a promise nobody awaited) is dropped, and reported
   * once as the crew's error. It does not throw: a throw there would have nowhere to go but the
   * process.
   */
  #isOpen(what: string): boolean {
    if (this.#phase === Phase.Open) return true;
    if (this.#phase === Phase.Ended) {
      this.#phase = Phase.StrayReported;
      this.#host.strayFault(this, new HandlerOutputError(messages.callEnded(this.crewId, what)));
    }
    return false;
  }
}
