import type { LiveCrewConfig } from '../config/config-schema.js';
import type { CrewDefinition } from '../discovery/crew-definition.js';
import { locateEnvelope, type Event, type EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { messages } from '../messages.js';
import { internal, type CallScope } from '../runtime/call-scope.js';
import { Isolate, type IsolateOutcome, type IsolateSpec } from './isolate.js';
import type { CrewHostRequest, IsolatedCall, RequestAnswer } from '../runner-protocol.js';
import { timeoutDecision } from '../replay/decision-keys.js';
import { answerRequest } from './isolated-models.js';
import { RUNS_ELSEWHERE } from '../runtime/route-table.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import type { IsolateLauncher } from '../ports/isolate-launcher.js';

/** The first restart after a crash waits this long; each further one twice as long, up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** How many ended calls are remembered, so that a fault escaping one later is still its crew's error. */
const REMEMBERED_CALLS = 64;
/** The most calls of a lane sent to an isolate in one message. */
const MAX_CALLS_AT_ONCE = 128;

/** A call sent to an isolate ahead of its turn, until the runner starts it. */
interface SentAhead {
  readonly key: string;
  readonly isolate: Isolate;
  readonly id: number;
  readonly outcome: Promise<IsolateOutcome>;
  /** Its requests that came before its turn, waiting for its scope (undefined: its turn will not come here). */
  waiting?: ((scope: CallScope | undefined) => void)[];
  /** When the isolate first asked something for it before its turn: the wait from then is not the call's time. */
  askedAt?: number;
}

/** Where an isolated crew runs and from what. */
export interface IsolatedCrewOptions {
  readonly kind: 'worker' | 'process';
  readonly crewsModule: string;
  readonly config: LiveCrewConfig;
  /** Waits out the backoff before a restart. */
  readonly clock: Clock;
  /** Where what the crew prints goes, with its id. */
  readonly logger: Logger;
  /** Starts its worker threads or child processes. */
  readonly launcher: IsolateLauncher;
}

/**
 * A crew run in worker threads or child processes (DESIGN §8): `concurrency` of them (default
 * 1), each running one call at a time. To the app it is a crew whose handlers are async: each
 * call goes to a free isolate with the view of the context the crew would read in process, and
 * what it emitted and wrote is applied to the call's own context when it ends, so atomicity,
 * limits, timeouts and error counting stay the runner's. An isolate that dies is replaced, after
 * a backoff that grows with consecutive crashes.
 *
 * A message to an isolate and its answer cost far more than a trivial call, so a call goes with
 * the calls waiting behind it in its lane, of its slice: the isolate runs them in order, as the
 * runner would, answering each as it ends, and as the runner starts each, its outcome is there.
 * The isolate stops at a call that fails (it may disable the crew) or runs past its limit (the
 * runner times it out); those after it go again in their turn. A call sent ahead asks the app
 * for nothing (a model call, an effect) before the runner starts it, and what it waited for that
 * is not its time. So each call runs once, on the view the runner gives it, and nothing else
 * changes: this only happens when the app's interceptors around the crew only watch.
 */
export class IsolatedCrew {
  /** Stands in for the crew's instance in the app: one async method per handler. */
  readonly instance: Record<string, (event: Event, ctx: unknown) => Promise<void>> = {};
  readonly #definition: CrewDefinition;
  readonly #options: IsolatedCrewOptions;
  readonly #size: number;
  readonly #idle: Isolate[] = [];
  /** Isolates alive or starting. */
  #count = 0;
  readonly #waiting: Array<{ readonly resolve: (isolate: Isolate) => void; readonly reject: (error: unknown) => void }> = [];
  #crashes = 0;
  #nextId = 0;
  /** Recent calls by id, for faults that escape them after they end. */
  readonly #calls = new Map<number, CallScope>();
  /** Calls sent ahead of their turn, by stream, slice, position and handler (`callKey`), and by id. */
  readonly #ahead = new Map<string, SentAhead>();
  readonly #aheadById = new Map<number, SentAhead>();
  /** Per isolate serving a lane's calls, how many of them have not ended or been dropped. */
  readonly #sentTo = new Map<Isolate, number>();
  #closed = false;
  /** The app's models and journal: its isolates' model calls and effects go through them. */
  #models: ModelCalls | undefined;

  constructor(definition: CrewDefinition, options: IsolatedCrewOptions) {
    this.#definition = definition;
    this.#options = options;
    this.#size = definition.concurrency ?? 1;
    for (const { method } of definition.handlers) {
      this.instance[method] = Object.assign((event: Event, ctx: unknown) => this.#call(method, event, ctx as CallScope), { [RUNS_ELSEWHERE]: true });
    }
  }

  /** How many calls it runs at once: the runner caps the crew's calls in flight at this. */
  get size(): number {
    return this.#size;
  }

  /**
   * Starts one isolate, so a module that cannot load or a crew that cannot be constructed there
   * stops the app before it runs; `models` make its model calls and journal its effects.
   *
   * @throws FrameworkVerdict naming the crew and the problem
   */
  async start(models: ModelCalls): Promise<void> {
    this.#models = models;
    this.#count++;
    try {
      this.#idle.push(await this.#spawn());
    } catch (error) {
      this.#count--;
      throw error;
    }
  }

  /** Ends every isolate. */
  async close(): Promise<void> {
    this.#closed = true;
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((isolate) => isolate.kill()));
  }

  async #call(method: string, event: Event, scope: CallScope): Promise<void> {
    const envelope = internal.envelope(scope);
    const ahead = this.#claim(callKey(scope.streamId, scope.slice, envelope.position, method));
    let isolate: Isolate;
    let id: number;
    let outcome: Promise<IsolateOutcome>;
    // How long a call sent ahead waited for its turn after it asked something: not its time.
    const waited = ahead?.askedAt === undefined ? 0 : performance.now() - ahead.askedAt;
    if (ahead !== undefined) {
      ({ isolate, id, outcome } = ahead);
      this.#remember(id, scope);
      for (const answer of ahead.waiting ?? []) answer(scope);
    } else {
      // Waiting for an isolate (one starting after a crash) is not the handler's time.
      const resume = internal.pauseTimeout(scope);
      isolate = await this.#acquire();
      resume();
      id = this.#nextId++;
      this.#remember(id, scope);
      const calls = [this.#isolatedCall(id, method, scope.streamId, scope.slice, event, envelope, internal.knobs(scope).timeoutMs), ...this.#waitingBehind(scope)];
      const outcomes = isolate.run(calls, scope.context.snapshot());
      this.#sentTo.set(isolate, calls.length);
      outcome = outcomes[0]!;
      for (let i = 1; i < calls.length; i++) this.#sendAhead(isolate, calls[i]!, outcomes[i]!);
    }
    // A timeout or a stop ends the call there, and its isolate with it.
    let abandoned = false;
    const unwatch = internal.onAbort(scope, (reason) => {
      abandoned = true;
      isolate.abandon(id, reason);
    });
    let result: IsolateOutcome;
    try {
      result = await outcome;
    } catch (error) {
      if (!isolate.alive && !abandoned) this.#crashes++;
      throw error;
    } finally {
      unwatch();
      this.#ended(isolate);
    }
    this.#crashes = 0;
    // Not run there (a call before it failed or ran long): it goes again, in its turn.
    if (!result.ran) return this.#call(method, event, scope);
    const { called } = result;
    const limit = this.#limitOf(internal.knobs(scope).timeoutMs);
    const ran = called.ms - waited;
    // Ran ahead past its limit: the runner's clock, started at its turn, times it out as in process.
    if (ahead !== undefined && limit !== undefined && ran > limit) {
      try {
        await abortOf(scope.signal);
      } finally {
        void isolate.kill();
      }
    }
    // A call the runner gave up on (its timeout) leaves no trace, whatever its isolate answered.
    if (internal.ended(scope)) return;
    for (const [key, ...value] of called.writes) {
      if (value.length === 0) scope.context.delete(key);
      else scope.context.set(key, value[0]);
    }
    for (const action of called.actions) scope.emit(action.kind, action.payload, { ttlMs: action.ttlMs });
  }

  /** A call as its isolate receives it, with the limit the runner holds it to (`timeoutMs`). */
  #isolatedCall(id: number, method: string, streamId: string, slice: number, event: Event, envelope: EventEnvelope, timeoutMs: number | undefined): IsolatedCall {
    const limit = this.#limitOf(timeoutMs);
    return {
      id,
      method,
      crew: this.#definition.id,
      streamId,
      slice,
      event,
      position: envelope.position,
      source: locateEnvelope(envelope),
      ...(limit !== undefined ? { timeoutMs: limit } : {}),
    };
  }

  /** The limit the runner holds a call to, as the isolate is told it: none while a replay takes every timeout from its journal. */
  #limitOf(timeoutMs: number | undefined): number | undefined {
    return this.#models?.journal.replaying ? undefined : timeoutMs;
  }

  /**
   * The calls waiting behind a call in its lane, of its slice, as the runner will start them: those
   * its handler's payload schema turns away left out (the runner reports them without a call), up
   * to one whose timeout the journal holds (the runner will not run it). None when the app's
   * interceptors do more than watch, or the call is being stopped.
   */
  #waitingBehind(scope: CallScope): IsolatedCall[] {
    const calls: IsolatedCall[] = [];
    const lane = internal.lane(scope);
    if (scope.signal.aborted || lane.disabled) return calls;
    const crew = this.#definition.id;
    for (const { route, slice, envelope } of lane.waiting()) {
      if (slice !== scope.slice || calls.length === MAX_CALLS_AT_ONCE - 1) break;
      const { handler } = route;
      if (!(route.crew.interceptors.get(handler.method) ?? []).every((interceptor) => interceptor.observesOnly === true)) break;
      if (this.#models?.journal.has(timeoutDecision(crew, handler.method, scope.streamId, slice, envelope.position))) break;
      let event = envelope.event;
      if (handler.payload !== undefined) {
        const parsed = handler.payload.safeParse(event.payload);
        if (!parsed.success) continue;
        event = Object.freeze({ ...event, payload: parsed.data });
      }
      const knobs = route.crew.knobs?.forCall(scope.streamId, slice) ?? route.crew.definition;
      calls.push(this.#isolatedCall(this.#nextId++, handler.method, scope.streamId, slice, event, envelope, knobs.timeoutMs));
    }
    return calls;
  }

  /** Keeps a call sent ahead for the runner to start; drops it if the isolate does not run it. */
  #sendAhead(isolate: Isolate, call: IsolatedCall, outcome: Promise<IsolateOutcome>): void {
    const sent: SentAhead = { key: callKey(call.streamId, call.slice, call.position, call.method), isolate, id: call.id, outcome };
    this.#ahead.set(sent.key, sent);
    this.#aheadById.set(sent.id, sent);
    outcome.then(
      (ended) => {
        if (!ended.ran) this.#drop(sent);
      },
      () => this.#drop(sent),
    );
  }

  /** The call sent ahead under `key`, taken for the runner starting it; none if there is none, or its isolate ended. */
  #claim(key: string): SentAhead | undefined {
    const sent = this.#ahead.get(key);
    if (sent === undefined) return undefined;
    if (!sent.isolate.alive) {
      this.#drop(sent);
      return undefined;
    }
    this.#ahead.delete(key);
    this.#aheadById.delete(sent.id);
    return sent;
  }

  /** A call sent ahead that the runner will not start here: it no longer holds its isolate. */
  #drop(sent: SentAhead): void {
    if (this.#ahead.get(sent.key) !== sent) return;
    this.#ahead.delete(sent.key);
    this.#aheadById.delete(sent.id);
    for (const answer of sent.waiting ?? []) answer(undefined);
    this.#ended(sent.isolate);
  }

  /** One call sent to the isolate ended (or was dropped): once none is left, it serves others. */
  #ended(isolate: Isolate): void {
    const left = (this.#sentTo.get(isolate) ?? 1) - 1;
    if (left > 0) {
      this.#sentTo.set(isolate, left);
      return;
    }
    this.#sentTo.delete(isolate);
    this.#release(isolate);
  }

  /** What the isolate asks for a call: answered through its scope, once the runner started it. */
  async #answer(request: CrewHostRequest): Promise<RequestAnswer> {
    let scope = this.#calls.get(request.id);
    const ahead = this.#aheadById.get(request.id);
    if (scope === undefined && ahead !== undefined) {
      ahead.askedAt ??= performance.now();
      scope = await new Promise<CallScope | undefined>((resolve) => (ahead.waiting ??= []).push(resolve));
    }
    return answerRequest(scope, this.#models, request);
  }

  /** A free isolate: an idle one, a new one while fewer than `size` run, else the next one freed. */
  async #acquire(): Promise<Isolate> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#count < this.#size) {
      this.#count++;
      try {
        if (this.#crashes > 0) await this.#options.clock.sleep(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#crashes - 1)));
        return await this.#spawn();
      } catch (error) {
        this.#count--;
        throw error;
      }
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** A call ended: its isolate serves the next call, or, if it died, makes room for a new one. */
  #release(isolate: Isolate): void {
    if (!isolate.alive || this.#closed) {
      this.#count--;
      if (this.#closed) void isolate.kill();
      const waiter = this.#waiting.shift();
      if (waiter !== undefined) this.#acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(isolate);
    else this.#idle.push(isolate);
  }

  async #spawn(): Promise<Isolate> {
    const { kind, crewsModule, config } = this.#options;
    const { id, memoryLimitMb } = this.#definition;
    const spec: IsolateSpec = {
      kind,
      init: { type: 'init', crewsModule, crewId: id, config, ...(memoryLimitMb !== undefined ? { memoryLimitMb } : {}) },
      allowWrite: config.isolation_allow_write,
      launcher: this.#options.launcher,
      printed: (stream, line) => this.#options.logger.warn({ crew: id, output: stream }, `${messages.isolatedCrewPrinted(id, kind, stream)}: ${line}`),
    };
    const isolate = await Isolate.start(spec);
    isolate.onStray = (id, error) => {
      const scope = this.#calls.get(id);
      if (scope !== undefined) internal.faulting(scope).strayFault(new Error(error));
    };
    isolate.onRequest = (request) => this.#answer(request);
    return isolate;
  }

  #remember(id: number, scope: CallScope): void {
    this.#calls.set(id, scope);
    if (this.#calls.size > REMEMBERED_CALLS) this.#calls.delete(this.#calls.keys().next().value!);
  }
}

/** A call as the runner and the isolate both name it: its stream, slice, input position and handler. */
function callKey(streamId: string, slice: number, position: number, method: string): string {
  return `${streamId}\u0000${slice}\u0000${position}\u0000${method}`;
}

/** Rejects with the signal's reason once it aborts. */
function abortOf(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
