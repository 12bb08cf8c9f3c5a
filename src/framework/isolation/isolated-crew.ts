import type { LiveCrewConfig } from '../config/config-schema.js';
import type { CrewDefinition } from '../discovery/crew-definition.js';
import type { Event } from '../model/event.js';
import { locateEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { messages } from '../messages.js';
import { internal, type CallScope } from '../runtime/call-scope.js';
import { Isolate, type IsolateSpec } from './isolate.js';
import type { CrewCalled } from '../runner-protocol.js';
import { answerRequest } from './isolated-models.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import type { IsolateLauncher } from '../ports/isolate-launcher.js';

/** The first restart after a crash waits this long; each further one twice as long, up to `MAX_BACKOFF_MS`. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** How many ended calls are remembered, so that a fault escaping one later is still its crew's error. */
const REMEMBERED_CALLS = 64;

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
  #closed = false;
  /** The app's models and journal: its isolates' model calls and effects go through them. */
  #models: ModelCalls | undefined;

  constructor(definition: CrewDefinition, options: IsolatedCrewOptions) {
    this.#definition = definition;
    this.#options = options;
    this.#size = definition.concurrency ?? 1;
    for (const { method } of definition.handlers) {
      this.instance[method] = async (event, ctx) => this.#call(method, event, ctx as CallScope);
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
    // Waiting for an isolate (one starting after a crash) is not the handler's time.
    const resume = internal.pauseTimeout(scope);
    const isolate = await this.#acquire();
    resume();
    const id = this.#nextId++;
    this.#remember(id, scope);
    let outcome: CrewCalled;
    try {
      outcome = await isolate.call(
        {
          method,
          crew: this.#definition.id,
          streamId: scope.streamId,
          slice: scope.slice,
          event,
          position: internal.envelope(scope).position,
          source: locateEnvelope(internal.envelope(scope)),
          context: scope.context.snapshot(),
        },
        id,
        scope.signal,
      );
    } catch (error) {
      if (!isolate.alive && !scope.signal.aborted) this.#crashes++;
      throw error;
    } finally {
      this.#release(isolate);
    }
    this.#crashes = 0;
    // A call the runner gave up on (its timeout) leaves no trace, whatever its isolate answered.
    if (internal.ended(scope)) return;
    for (const [key, ...value] of outcome.writes) {
      if (value.length === 0) scope.context.delete(key);
      else scope.context.set(key, value[0]);
    }
    for (const action of outcome.actions) scope.emit(action.kind, action.payload, { ttlMs: action.ttlMs });
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
    isolate.onRequest = (request) => answerRequest(this.#calls.get(request.id), this.#models, request);
    return isolate;
  }

  #remember(id: number, scope: CallScope): void {
    this.#calls.set(id, scope);
    if (this.#calls.size > REMEMBERED_CALLS) this.#calls.delete(this.#calls.keys().next().value!);
  }
}
