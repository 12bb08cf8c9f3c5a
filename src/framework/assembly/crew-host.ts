import type { CrewGraph } from '../discovery/crew-definition.js';
import { IsolatedCrews } from '../isolation/isolated-crews.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { InterceptorRef } from '../ports/interceptor.js';
import { constructCrews } from '../runtime/instantiate-crews.js';
import { type LifecycleHooks, logStopFailures } from '../runtime/lifecycle-hooks.js';
import type { CrewRuntime } from '../runtime/route-table.js';
import { ISOLATE_LAUNCHER } from '../tokens.js';
import type { LiveCrewAppOptions } from './assembly-options.js';
import { openModelCalls } from './model-access.js';
import type { AssembledProcess } from './process-assembly.js';

/** Which crews a process hosts, and how. */
export interface CrewHostOptions extends Pick<LiveCrewAppOptions, 'providers' | 'interceptors' | 'crewsModule' | 'models' | 'embedders' | 'reloadable'> {
  /** The crews this process constructs and runs (a runner's selector); default all. */
  readonly hosted?: (id: string) => boolean;
  /** Throws when the process hosts none of the graph's crews (a runner whose selector matches none). */
  readonly hostsNone?: (graph: CrewGraph) => Error;
}

/**
 * The crews a process hosts (DESIGN §13): constructed through its container with their
 * interceptors (the monitor's, the app's, their own), isolated crews standing in for their
 * worker or process, the process's model and vector access, and their lifecycle hooks. Every
 * shape that runs crews hosts them through this; only which crews differs.
 */
export class CrewHost {
  /** The hosted crews, in run order. */
  readonly crews: readonly CrewRuntime[];
  /** Their model calls, vector calls and recorded effects. */
  readonly models: ModelCalls;
  readonly #isolation: IsolatedCrews;
  readonly #hooks: LifecycleHooks;
  readonly #process: AssembledProcess;

  private constructor(process: AssembledProcess, crews: readonly CrewRuntime[], models: ModelCalls, isolation: IsolatedCrews, hooks: LifecycleHooks) {
    this.#process = process;
    this.crews = crews;
    this.models = models;
    this.#isolation = isolation;
    this.#hooks = hooks;
  }

  /**
   * Constructs the hosted crews and opens their model access; nothing runs yet.
   *
   * @throws CrewDefinitionError (ConstructionError) for a crew or interceptor DI cannot construct; ConfigError for models and vectors, as `createLiveCrewApp`
   */
  static async open(process: AssembledProcess, journal: DecisionJournal, options: CrewHostOptions): Promise<CrewHost> {
    const { config, graph, container, clock, logger, monitor } = process;
    const hosted = options.hosted ?? (() => true);
    const isolation = new IsolatedCrews({ crews: graph.crews.filter((crew) => hosted(crew.id)) }, options.crewsModule, config, { clock, logger, launcher: () => container.resolve(ISOLATE_LAUNCHER) });
    const interceptors: InterceptorRef[] = [...(monitor.interceptor ? [monitor.interceptor] : []), ...(options.interceptors ?? [])];
    const { crews, hooks } = constructCrews(container, graph, { ...options, hosted, interceptors, standIn: isolation.standIn });
    if (crews.length === 0 && options.hostsNone !== undefined) throw options.hostsNone(graph);
    const models = await openModelCalls(container, config, graph, { given: options, journal, clock, observer: monitor, logger });
    return new CrewHost(process, crews, models, isolation, hooks);
  }

  /** Starts the isolated crews' isolates, then every crew's and service's `onStart`. */
  async start(): Promise<void> {
    await this.#isolation.start(this.models);
    await this.#hooks.start(this.crews);
  }

  /** Runs `onStop` of what started (in reverse), logging each that failed. */
  async stop(): Promise<void> {
    logStopFailures(this.#process.logger, await this.#hooks.stop());
  }

  /** Ends the isolates and closes the model and vector access. */
  async close(): Promise<void> {
    await Promise.all([this.#isolation.close(), this.models.close()]);
  }
}
