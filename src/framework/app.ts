import type { ContextSnapshot } from './model/committed-context.js';
import type { ErrorReason } from './model/error-record.js';
import type { LiveCrewConfig } from './config/config-schema.js';
import { checkDistinctFiles, runFiles } from './config/distinct-files.js';
import type { CrewDefinition } from './discovery/crew-definition.js';
import type { ReloadableKnobs } from './discovery/crew-knobs.js';
import { ConfigError, LiveCrewError } from './errors.js';
import { messages } from './messages.js';
import { describeThrown } from './describe-thrown.js';
import { Heartbeat } from './runtime/heartbeat.js';
import { idleCrews, type IdleCrew } from './runtime/idle-crews.js';
import { trapStrayFaults } from './runtime/stray-faults.js';
import type { Versions } from './runtime/versions.js';
import type { DependencyContainer } from 'tsyringe';
import { ACTION_SINK, CONTEXT_BACKEND, CONTEXT_SINK, DECISION_JOURNAL, ERROR_SINK, EVENT_SOURCE } from './tokens.js';
import type { LiveCrewAppOptions } from './assembly/assembly-options.js';
import { CrewHost } from './assembly/crew-host.js';
import { inProcessPorts } from './assembly/port-bindings.js';
import { assembleProcess } from './assembly/process-assembly.js';
import { inProcessRun } from './assembly/in-process-run.js';

export type { LiveCrewAppOptions };

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
  const assembled = await assembleProcess(options, {
    check: (config) => {
      if (config.scheduler !== 'memory') throw new ConfigError(messages.distributedSchedulerNotInProcess());
      checkDistinctFiles(runFiles(config));
    },
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

  const { output, runner, engine, decoder, pipeline, run: runPipeline } = inProcessRun({ config, graph, crews, models, clock, monitor, journal, backend, source, actions, errors, contextOut });
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
      await runPipeline(() => stopping);
    } finally {
      await host.stop();
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
