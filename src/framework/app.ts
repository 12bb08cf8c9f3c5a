import type { ContextSnapshot } from './model/committed-context.js';
import type { LiveCrewConfig } from './config/config-schema.js';
import { checkDistinctFiles, runFiles } from './config/distinct-files.js';
import type { CrewDefinition } from './discovery/crew-definition.js';
import type { ReloadableKnobs } from './discovery/crew-knobs.js';
import { ConfigError, LiveCrewError } from './errors.js';
import { messages } from './messages.js';
import { describeThrown } from './describe-thrown.js';
import { Heartbeat } from './runtime/heartbeat.js';
import { idleCrews } from './runtime/idle-crews.js';
import { trapStrayFaults } from './runtime/stray-faults.js';
import type { Versions } from './runtime/versions.js';
import type { DependencyContainer } from 'tsyringe';
import { ACTION_SINK, CONTEXT_BACKEND, CONTEXT_SINK, DECISION_JOURNAL, ERROR_SINK, EVENT_SOURCE } from './tokens.js';
import type { LiveCrewAppOptions } from './assembly/assembly-options.js';
import { CrewHost } from './assembly/crew-host.js';
import { inProcessPorts } from './assembly/port-bindings.js';
import { assembleProcess, resolveConfig } from './assembly/process-assembly.js';
import { inProcessRun } from './assembly/in-process-run.js';
import { RunTotals, type RunSummary } from './assembly/run-summary.js';

export type { LiveCrewAppOptions, RunSummary };

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
 * How an app runs under a `scheduler:` other than `memory`, from the app's own options: provided
 * by an adapter (`nats`: one worker of a pool, DESIGN §12).
 */
export type AppScheduler = (options: LiveCrewAppOptions) => Promise<LiveCrewApp>;

const appSchedulers = new Map<string, () => Promise<AppScheduler>>();

/** Registers how apps run under `scheduler: <name>`; `load` imports the adapter when a configuration chooses it. */
export function registerAppScheduler(name: string, load: () => Promise<AppScheduler>): void {
  appSchedulers.set(name, load);
}

async function appScheduler(name: string): Promise<AppScheduler> {
  const load = appSchedulers.get(name);
  if (load === undefined) throw new ConfigError(messages.schedulerNotRegistered(name));
  return load();
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
  const { scheduler } = resolveConfig(options);
  if (scheduler !== 'memory') return (await appScheduler(scheduler))(options);
  const assembled = await assembleProcess(options, {
    check: (config) => checkDistinctFiles(runFiles(config)),
    ports: inProcessPorts,
  });
  const { config, graph, container, clock, logger, monitor } = assembled;
  const journal = container.resolve(DECISION_JOURNAL);
  const host = await CrewHost.open(assembled, journal, options);
  const { crews, models } = host;

  const source = container.resolve(EVENT_SOURCE);
  const actions = container.resolve(ACTION_SINK);
  const errors = container.resolve(ERROR_SINK);
  const backend = container.resolve(CONTEXT_BACKEND);
  const contextOut = container.isRegistered(CONTEXT_SINK, true) ? container.resolve(CONTEXT_SINK) : undefined;

  const inProcess = inProcessRun({ config, graph, crews, models, clock, monitor, journal, backend, source, actions, errors, contextOut });
  const { output, runner, decoder } = inProcess;
  const heartbeat = new Heartbeat({ intervalMs: config.heartbeat_s * 1000, clock, logger, monitor, beat: (seq) => logger.info({ kind: '__hb', seq }, messages.heartbeatLine) });

  let running: Promise<RunSummary> | undefined;
  let stopping = false;
  const closeAdapters = async () => {
    heartbeat.stop();
    await Promise.all([source.close(), actions.close(), errors.close(), backend.close(), journal.close(), monitor.close(), host.close(), contextOut?.close()]);
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
      await host.start();
      logger.info({ transport: config.transport, crews: crews.length }, messages.runStarted);
      heartbeat.start();
      await inProcess.run(() => stopping);
    } finally {
      await host.stop();
      process.off('beforeExit', onLoopEmpty);
      untrap();
      await closeAdapters();
    }
    const totals = new RunTotals();
    totals.add(inProcess);
    const summary = totals.summary({
      abandoned,
      idleCrews: idleCrews(graph.crews, { calls: runner.callsPerCrew(), kindsSeen: decoder.kindsSeen(), errorsByCrew: output.errorCountsByCrew }),
      durationMs: clock.now() - started,
    });
    for (const idle of summary.idleCrews) logger.warn({ crew: idle.crew }, idle.message);
    logger.info({ events: summary.events, invalid: summary.invalid, actions: summary.actions, errors: summary.errors, slices: summary.slices, t_ms: summary.durationMs }, messages.runFinished);
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
