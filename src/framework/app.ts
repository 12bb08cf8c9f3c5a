import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import { adapterFactory, type AdapterPorts } from './adapter-registry.js';
import type { LiveCrewConfig, LiveCrewConfigInput } from './config/config-schema.js';
import { inputLimits, runnerLimits } from './config/limits.js';
import { loadConfig } from './config/load-config.js';
import { loadRuntimeOverrides } from './config/runtime-overrides.js';
import type { CrewClass, CrewDefinition, CrewGraph } from './discovery/crew-definition.js';
import { reloadableKnobsOf, type ReloadableKnobs } from './discovery/crew-knobs.js';
import { Versions } from './runtime/versions.js';
import { buildCrewGraph } from './discovery/crew-graph.js';
import { declaredCrewId } from './discovery/read-crew.js';
import { ConfigError, LiveCrewError } from './errors.js';
import { messages } from './messages.js';
import { EventDecoder } from './model/event.js';
import type { ErrorReason } from './model/error-record.js';
import type { ContextSnapshot } from './model/committed-context.js';
import type { Clock } from './ports/clock.js';
import type { DecisionJournal } from './ports/decision-journal.js';
import type { Logger } from './ports/logger.js';
import type { ModelProvider } from './ports/model-provider.js';
import type { Monitor, RunObserver } from './ports/run-observer.js';
import { systemClock } from './system-clock.js';
import { CrewRunner } from './runtime/crew-runner.js';
import { EventPipeline } from './runtime/event-pipeline.js';
import { instantiateCrews } from './runtime/instantiate-crews.js';
import { LifecycleHooks, logStopFailures } from './runtime/lifecycle-hooks.js';
import type { InterceptorRef } from './ports/interceptor.js';
import { OutputBuffer } from './runtime/output-buffer.js';
import { PacedEventSource } from './runtime/paced-event-source.js';
import { scheduleCrews } from './scheduler/crew-schedule.js';
import { SliceEngine } from './scheduler/slice-engine.js';
import type { SliceTiming } from './scheduler/slice-target.js';
import {
  ACTION_SINK,
  CLOCK,
  CONTEXT_BACKEND,
  DECISION_JOURNAL,
  ERROR_SINK,
  EVENT_SOURCE,
  LIVE_CREW_CONFIG,
  LOGGER,
  MODEL_PROVIDER,
  MONITOR,
  VECTOR_STORE,
  CONTEXT_SINK,
  type ProviderRegistration,
} from './tokens.js';
import { unmetCrewNeeds } from './models/crew-needs.js';
import { idleCrews, type IdleCrew } from './runtime/idle-crews.js';
import { ModelCalls, NO_MODELS, replayedModels, unknownCrewModels, unknownVectorEmbedders, withModels, type GivenModels } from './models/model-calls.js';
import { VectorConfigSchema } from './config/vector-config.js';
import { DEFAULT_MODEL_RETRIES } from './config/model-config.js';
import { Heartbeat, NO_MONITOR } from './runtime/heartbeat.js';
import { describeThrown } from './runtime/describe-thrown.js';
import { trapStrayFaults } from './runtime/stray-faults.js';
import { logObserver } from './runtime/log-observer.js';
import { checkDistinctFiles, runFiles } from './config/distinct-files.js';
import { IsolatedCrews, withIsolation } from './isolation/isolated-crews.js';

/** Options of `createLiveCrewApp`. */
export interface LiveCrewAppOptions {
  /** The crew classes to run. */
  crews: readonly CrewClass[];
  /** Services, fakes and adapter overrides for the container. */
  providers?: readonly ProviderRegistration[];
  /** Configuration values; they win over the file and env vars. */
  config?: LiveCrewConfigInput;
  /** Defaults under the file and env vars (`createTestingApp` logs nothing unless told to). */
  configDefaults?: LiveCrewConfigInput;
  /** The YAML config file; default `live-config.yaml` if present; `false` for none. */
  configFile?: string | false;
  /** Env vars to read `LIVE_CREW_*` settings from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The parent of the app's container; default tsyringe's root container. */
  container?: DependencyContainer;
  /**
   * Interceptors around every handler call of every crew, outermost first, before each crew's
   * own `@UseInterceptors`. Classes are constructed through the app's container.
   */
  interceptors?: readonly InterceptorRef[];
  /** Told what the run takes in and sends out, beside the monitor (the CLI's `--progress`, its dashboard). */
  observer?: RunObserver | readonly RunObserver[];
  /**
   * The compiled module (`.js`) exporting the crews, as the CLI's `--crews`: needed by crews with
   * `isolation: worker` or `process`, which are constructed from it in their worker or process.
   */
  crewsModule?: string;
  /**
   * Language models by name, beside (and winning over) those of `models:` in the config: an AI
   * SDK model, a provider's or a fake (`scriptedModel`, the SDK's `MockLanguageModelV3`). Crews
   * reach them as `ctx.model(name)`, journaled and budgeted like configured ones.
   */
  models?: Readonly<Record<string, LanguageModelV3>>;
  /**
   * Embedding models by name, beside (and winning over) those of `embedders:`: an AI SDK model, a
   * provider's or a fake (`hashEmbedder`). Crews reach them as `ctx.embedder(name)` and through
   * `ctx.vectors()`, journaled like configured ones.
   */
  embedders?: Readonly<Record<string, EmbeddingModelV3>>;
  /**
   * The crews' reloadable knobs (`timeoutMs`, `maxErrors`, `maxTokensPerSlice`,
   * `maxCallsPerMinute`, `model`) may take new values while the app runs, by version
   * (`LiveCrewApp.reloadableKnobs`): what `run --watch` does with a changed runtime file.
   */
  reloadable?: boolean;
}

/** What a run did. */
export interface RunSummary {
  /** Valid events taken in. */
  events: number;
  /** Input records rejected as invalid events. */
  invalid: number;
  /** Actions emitted. */
  actions: number;
  /** Error records published, all reasons. */
  errors: number;
  /** Error records per reason. */
  errorsByReason: Record<ErrorReason, number>;
  /** Slices closed that held at least one event, across streams. */
  slices: number;
  /**
   * Handler calls that never finished: their promise could never settle, or they were still
   * running `stop_timeout_ms` after a stop. Each failed as a `handler_error`; the CLI exits 1.
   */
  abandoned: number;
  /** The crews that made no call, each with the likeliest reason (also logged as a warning). */
  idleCrews: IdleCrew[];
  /** Wall time of the run in ms. */
  durationMs: number;
}

/** A live-crew app: crews bound to adapters, ready to run. */
export interface LiveCrewApp {
  /** The configuration in force. */
  readonly config: Readonly<LiveCrewConfig>;
  /** The crews' definitions, in run order (DESIGN §4). */
  readonly crews: readonly CrewDefinition[];
  /** The app's DI container (a child of the one given). */
  readonly container: DependencyContainer;
  /**
   * Runs until the source ends or `stop()` is called, then closes every slice, flushes and closes
   * the adapters. One run per app.
   */
  run(): Promise<RunSummary>;
  /** Stops reading, finishes in-flight work, closes slices and adapters; resolves when done. */
  stop(): Promise<void>;
  /** The merged context of a stream after its last closed slice. */
  context(streamId: string): ContextSnapshot | undefined;
  /** With `reloadable`, each crew's definition and its reloadable knobs by version; else empty. */
  readonly reloadableKnobs: ReadonlyMap<string, { readonly definition: CrewDefinition; readonly knobs: Versions<ReloadableKnobs> }>;
}

/**
 * Builds an app: resolves configuration (defaults < `live-config.yaml` < `LIVE_CREW_*` env <
 * `config`), checks the crews and their dependency graph, binds the ports to adapters and
 * constructs the crews through DI. Nothing runs before `run()`.
 *
 * @throws ConfigError for a bad configuration, naming the source and key.
 * @throws CrewDefinitionError (or DependencyCycleError) for bad crews, listing every problem.
 * @example
 * ```ts
 * const app = await createLiveCrewApp({ crews: [ScoreTracker], config: { input: 'match.jsonl' } });
 * const summary = await app.run();
 * ```
 */
export async function createLiveCrewApp(options: LiveCrewAppOptions): Promise<LiveCrewApp> {
  const { config, graph } = resolveCrews(options);
  if (config.scheduler !== 'memory') throw new ConfigError(messages.distributedSchedulerNotInProcess());
  checkDistinctFiles(runFiles(config));
  const container = (options.container ?? rootContainer).createChildContainer();
  await bindPorts(container, config, options.providers ?? []);
  const logger = container.resolve(LOGGER);
  const monitor = alsoObserving(container.resolve(MONITOR), [logObserver(logger), ...(options.observer ? [options.observer].flat() : [])]);
  const clock = container.resolve(CLOCK);
  const isolation = new IsolatedCrews(graph, options.crewsModule, config, clock, logger);
  const hooks = new LifecycleHooks(container, options.providers ?? []);
  const instantiated = instantiateCrews(graph, container, () => true, [...(monitor.interceptor ? [monitor.interceptor] : []), ...(options.interceptors ?? [])], isolation.standIn);
  const crews = options.reloadable ? instantiated.map((crew) => ({ ...crew, knobs: new Versions(reloadableKnobsOf(crew.definition)) })) : instantiated;
  const journal = container.resolve(DECISION_JOURNAL);
  const models = await openModelCalls(container, config, graph, { given: options, journal, clock, observer: monitor, logger });

  const source = container.resolve(EVENT_SOURCE);
  const actions = container.resolve(ACTION_SINK);
  const errors = container.resolve(ERROR_SINK);
  const backend = container.resolve(CONTEXT_BACKEND);
  const contextOut = container.isRegistered(CONTEXT_SINK, true) ? container.resolve(CONTEXT_SINK) : undefined;

  const output = new OutputBuffer(monitor);
  // A pace replays recorded input live; live mode lets wall time close slices.
  const liveRate = config.mode === 'live' || config.pace !== null ? (config.pace ?? 1) : undefined;
  // Output of calls that end between input batches goes out through the pipeline, made below.
  let flushSoon = (): void => {};
  const runner = new CrewRunner(crews, backend, output, runnerLimits(config), {
    journal,
    clock,
    observer: monitor,
    models,
    // With a backend that outlives the process, a slice's output goes out before its commit.
    ...(config.kv_backend !== 'memory' ? { flushOutput: () => output.flush(actions, errors) } : {}),
    // Batch output is the same whatever the timing; live output goes out as calls end.
    ordered: liveRate === undefined,
    outputReady: () => flushSoon(),
    ...(contextOut !== undefined ? { contextOut } : {}),
  });
  const timing = sliceTiming(config, liveRate);
  const engine = new SliceEngine(timing, scheduleCrews(graph.crews, config.eager_dispatch), runner, clock, journal);
  const paced = config.pace !== null ? new PacedEventSource(source, config.pace, clock) : undefined;
  const input = paced ?? source;
  const ticker = liveRate !== undefined ? { clock, intervalMs: Math.max(1, config.slice_ms / liveRate / 4), ...(paced ? { eventTimeLimit: () => paced.eventTimeReached() } : {}) } : undefined;
  const decoder = new EventDecoder(inputLimits(config));
  const pipeline = new EventPipeline(decoder, engine, output, { observer: monitor });
  flushSoon = () => pipeline.flushSoon();
  const heartbeat = new Heartbeat({ intervalMs: config.heartbeat_s * 1000, clock, logger, monitor, beat: (seq) => logger.info({ kind: '__hb', seq }, '__hb') });

  let running: Promise<RunSummary> | undefined;
  let stopping = false;
  const closeAdapters = async () => {
    heartbeat.stop();
    await Promise.all([source.close(), actions.close(), errors.close(), backend.close(), journal.close(), monitor.close(), isolation.close(), models.close(), contextOut?.close()]);
  };

  let abandoned = 0;
  // A call whose promise can never settle would otherwise let the event loop empty and the
  // process exit (code 13) with the batch's output lost: fail such calls and go on.
  const onLoopEmpty = () => {
    abandoned += runner.abandonInFlight(messages.callNeverSettled);
  };
  const run = async (): Promise<RunSummary> => {
    const started = clock.now();
    const untrap = trapStrayFaults((error, kind) => logger.error({ fault: kind, error: describeThrown(error) }, messages.unattributedFault(kind)));
    process.on('beforeExit', onLoopEmpty);
    try {
      await monitor.start?.();
      await isolation.start(models);
      await hooks.start(crews);
      logger.info({ transport: config.transport, crews: crews.length }, 'run started');
      heartbeat.start();
      await pipeline.run(input, actions, errors, () => stopping, ticker);
    } finally {
      logStopFailures(logger, await hooks.stop());
      process.off('beforeExit', onLoopEmpty);
      untrap();
      await closeAdapters();
    }
    const errorsByReason = { ...output.errorCounts };
    const summary = {
      events: pipeline.counts.accepted,
      invalid: pipeline.counts.invalid,
      actions: output.actionCount,
      errors: Object.values(errorsByReason).reduce((sum, n) => sum + n, 0),
      errorsByReason,
      slices: engine.slicesClosed,
      abandoned,
      idleCrews: idleCrews(graph.crews, { calls: runner.callsPerCrew(), kindsSeen: decoder.kindsSeen(), errorsByCrew: output.errorCountsByCrew }),
      durationMs: clock.now() - started,
    };
    for (const idle of summary.idleCrews) logger.warn({ crew: idle.crew }, idle.message);
    logger.info({ events: summary.events, invalid: summary.invalid, actions: summary.actions, errors: summary.errors, slices: summary.slices, t_ms: summary.durationMs }, 'run finished');
    return summary;
  };

  return {
    config,
    crews: graph.crews,
    container,
    run() {
      if (running) throw new LiveCrewError(messages.appAlreadyRan());
      running = run();
      return running;
    },
    async stop() {
      stopping = true;
      if (!running) return closeAdapters();
      runner.stop();
      await source.close();
      const settled = running.then(
        () => true,
        () => true,
      );
      // Calls still running after stop_timeout_ms are abandoned, so a stop always ends.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), config.stop_timeout_ms)));
      if (!(await Promise.race([settled, timedOut]))) {
        abandoned += runner.abandonInFlight((crew, method) => messages.callAbandonedAtStop(crew, method, config.stop_timeout_ms));
      }
      clearTimeout(timer);
      await settled;
    },
    context: (streamId) => runner.snapshotOf(streamId),
    reloadableKnobs: new Map(crews.flatMap((crew) => (crew.knobs ? [[crew.definition.id, { definition: crew.definition, knobs: crew.knobs }] as const] : []))),
  };
}

const OBSERVER_HOOKS = [
  'eventAccepted',
  'actionsSent',
  'errorsSent',
  'sliceClosed',
  'streamForgotten',
  'contextMerged',
  'contextChanged',
  'heartbeat',
  'heartbeatGap',
  'modelCalled',
  'vectorSearched',
  'runnerSilent',
] as const;

/**
 * A monitor that also tells `observers` everything it is told. A hook nobody has stays absent,
 * and one only one observer has is that observer's own: the hot path pays for no fan-out.
 */
export function alsoObserving(monitor: Monitor, observers: readonly RunObserver[]): Monitor {
  const all = [monitor, ...observers];
  const combined: Monitor = {
    ...(monitor.interceptor ? { interceptor: monitor.interceptor } : {}),
    start: () => monitor.start?.() ?? Promise.resolve(),
    close: () => monitor.close(),
  };
  for (const hook of OBSERVER_HOOKS) {
    const calls = all.flatMap((observer) => (observer[hook] ? [(observer[hook] as (...args: unknown[]) => void).bind(observer)] : []));
    if (calls.length === 0) continue;
    const fanOut = (...args: unknown[]) => {
      for (const call of calls) call(...args);
    };
    Object.assign(combined, { [hook]: calls.length === 1 ? calls[0] : fanOut });
  }
  return combined;
}

/**
 * The slicing knobs of a configuration. `liveRate` is set in live mode (and for a paced replay);
 * the wall-clock guard `max_future_ms` applies to live input only, never to a replay of recorded
 * events.
 */
export function sliceTiming(config: LiveCrewConfig, liveRate: number | undefined): SliceTiming {
  return {
    sliceMs: config.slice_ms,
    latenessMs: config.lateness_ms,
    ...(liveRate !== undefined ? { liveRate } : {}),
    ...(config.max_jump_ms !== null ? { maxJumpMs: config.max_jump_ms } : {}),
    ...(config.max_future_ms !== null && config.mode === 'live' && config.pace === null ? { maxFutureMs: config.max_future_ms } : {}),
    ...(config.stream_idle_ms !== null ? { streamIdleMs: config.stream_idle_ms } : {}),
  };
}

/**
 * The configuration and the checked crew graph of an app's options: what every way of running
 * crews (in process, a distributed scheduler, a runner) starts from.
 *
 * @throws ConfigError, CrewDefinitionError or DependencyCycleError, as `createLiveCrewApp`
 */
export function resolveCrews(options: Pick<LiveCrewAppOptions, 'crews' | 'config' | 'configFile' | 'env' | 'configDefaults'>): { config: LiveCrewConfig; graph: CrewGraph } {
  const config = loadConfig({ file: options.configFile, env: options.env ?? process.env, values: options.config, defaults: options.configDefaults });
  const crewIds = options.crews.map(declaredCrewId).filter((id) => id !== undefined);
  return { config, graph: withIsolation(buildCrewGraph(options.crews, loadRuntimeOverrides(options.configFile, crewIds)), config) };
}

/** A port's default: how to make it, possibly importing its adapter's module first. */
export type PortDefault = readonly [InjectionToken<unknown>, () => unknown];

/** Makes the adapter registered for a port under a name, importing its module if it is not loaded yet. */
function adapter<P extends keyof AdapterPorts>(port: P, name: string, config: LiveCrewConfig): () => Promise<AdapterPorts[P]> {
  return async () => (await adapterFactory(port, name))(config);
}

/** Registers the config and, for every port not given in `providers`, the adapter config chooses. */
export async function bindPorts(container: DependencyContainer, config: LiveCrewConfig, providers: readonly ProviderRegistration[]): Promise<void> {
  await registerPorts(container, config, providers, [
    [EVENT_SOURCE, adapter('source', config.transport, config)],
    [ACTION_SINK, adapter('actions', config.transport, config)],
    [ERROR_SINK, adapter('errors', config.transport, config)],
    [CONTEXT_BACKEND, adapter('context', config.kv_backend, config)],
    [DECISION_JOURNAL, adapter('journal', config.transport, config)],
    // `__context` records: to a file when asked, on `live.<stream>.ctx` over NATS, else nowhere.
    ...(config.context_out !== null || config.transport === 'nats' ? [[CONTEXT_SINK, adapter('contextOut', config.context_out !== null ? 'file' : 'nats', config)] as PortDefault] : []),
    ...serviceDefaults(config),
  ]);
}

/** The ports every kind of process has, bound as the config says: clock, monitor, logger, models, and the vector store when `vector:` is on. */
export function serviceDefaults(config: LiveCrewConfig): PortDefault[] {
  return [
    [CLOCK, () => systemClock],
    [MONITOR, config.metrics_port === null ? () => NO_MONITOR : adapter('monitor', 'prometheus', config)],
    [LOGGER, adapter('logger', 'pino', config)],
    [MODEL_PROVIDER, () => configuredModels(config)],
    ...(config.vector !== null ? [[VECTOR_STORE, adapter('vectors', config.vector.backend, config)] as PortDefault] : []),
  ];
}

/** The models and embedders of `models:` and `embedders:`, made by the AI SDK adapter; none loaded when neither is set. */
export async function configuredModels(config: LiveCrewConfig): Promise<ModelProvider> {
  return Object.keys(config.models).length === 0 && Object.keys(config.embedders).length === 0 ? NO_MODELS : adapter('models', 'ai-sdk', config)();
}

/**
 * The model calls of a process that runs crews: the container's `MODEL_PROVIDER` (the config's
 * `models:` and `embedders:`) with the `given` models winning, opened, and checked against the
 * crews' `model`, `vector:`'s embedders and what YAML crews declare they need; and, with
 * `vector:` (or a `VECTOR_STORE` provider), the vector store, opened.
 *
 * @throws ConfigError for a model that cannot be made (a key not set, a package missing), a crew or `vector:` naming a model not configured, a vector store that cannot be opened
 */
export async function openModelCalls(
  container: DependencyContainer,
  config: LiveCrewConfig,
  graph: CrewGraph,
  services: { given?: GivenModels | undefined; journal: DecisionJournal; clock: Clock; observer?: RunObserver; logger?: Logger },
): Promise<ModelCalls> {
  const given = withModels(container.resolve(MODEL_PROVIDER), services.given ?? {});
  // A replay that takes every answer from its journal makes no model, opens no store and applies no write.
  const replayOnly = services.journal.replaying && config.replay_missing === 'fail';
  const provider = replayOnly ? replayedModels(given) : given;
  await provider.open();
  const vector = config.vector ?? (container.isRegistered(VECTOR_STORE, true) ? VectorConfigSchema.parse({ backend: 'memory' }) : null);
  const unknown = [...unknownCrewModels(graph, provider), ...unknownVectorEmbedders(config.vector, provider), ...unmetCrewNeeds(graph, vector, provider)];
  if (unknown.length > 0) throw new ConfigError(messages.configInvalid('the crews', unknown.map((problem) => `  ${problem}`).join('\n')));
  const specs = config.models;
  const models = new ModelCalls({
    provider,
    journal: services.journal,
    clock: services.clock,
    replayMissing: config.replay_missing,
    maxRetries: (name) => specs[name]?.max_retries ?? DEFAULT_MODEL_RETRIES,
    ...(vector !== null
      ? {
          vectors: {
            store: replayOnly ? undefined : container.resolve(VECTOR_STORE),
            config: vector,
            limits: { payloadMaxBytes: config.payload_max_bytes, payloadMaxDepth: config.payload_max_depth },
          },
        }
      : {}),
    ...(services.observer ? { observer: services.observer } : {}),
    ...(services.logger ? { logger: services.logger } : {}),
  });
  await models.vectorCalls?.open();
  return models;
}

/**
 * Registers the config, the adapter each port of `defaults` gets from its factory unless a
 * provider gives that port (a replaced adapter is never made, so it never opens), and `providers`.
 */
export async function registerPorts(container: DependencyContainer, config: LiveCrewConfig, providers: readonly ProviderRegistration[], defaults: readonly PortDefault[]): Promise<void> {
  container.register(LIVE_CREW_CONFIG, { useValue: config });
  const provided = new Set(providers.map((p) => p.token));
  for (const [token, create] of defaults) {
    if (!provided.has(token)) container.register(token, { useValue: await create() });
  }
  for (const { token, ...provider } of providers) container.register(token, provider as never);
}
