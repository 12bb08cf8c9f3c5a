import { createLiveCrewApp, type LiveCrewAppOptions, type RunSummary } from '../app.js';
import { z } from 'zod';
import { checkLayer, loadConfig } from '../config/load-config.js';
import { StreamIdSchema } from '../model/event.js';
import { buildCrewGraph } from '../discovery/crew-graph.js';
import type { Action } from '../model/action.js';
import type { ErrorReason, ErrorRecord } from '../model/error-record.js';
import type { ContextSnapshot } from '../model/committed-context.js';
import { ACTION_SINK, CONTEXT_BACKEND, ERROR_SINK, EVENT_SOURCE } from '../tokens.js';
import { adapterFactory } from '../adapter-registry.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, seededContext } from './in-memory-ports.js';
import { stubCrew } from './stub-crews.js';

/** Options of `createTestingApp`: those of `createLiveCrewApp`, minus file and env. */
export interface TestingAppOptions extends Pick<LiveCrewAppOptions, 'crews' | 'providers' | 'config' | 'container' | 'interceptors' | 'crewsModule' | 'models' | 'embedders' | 'observer'> {
  /**
   * Each stream's context before its first slice, by stream id: what the crews read in slice 0
   * (S(-1)), as if earlier slices had left it. Every run starts from it again.
   */
  context?: Readonly<Record<string, ContextSnapshot>>;
  /**
   * Ids of crews the tested ones depend on, stood in for by crews that take every event and do
   * nothing: a crew with `@DependsOn` is tested alone (seed with `context` what they would write).
   */
  stubCrews?: readonly string[];
}

/** A seed: JSON contexts by stream id. */
const ContextSeedSchema = z.strictObject({ context: z.record(StreamIdSchema, z.record(z.string(), z.json())) });

/** What one test run produced. */
export interface TestRunResult {
  /** The actions, as parsed from the JSON lines a sink would receive, in output order. */
  readonly actions: readonly Action[];
  /** Every `__error` record, in output order. */
  readonly errors: readonly ErrorRecord[];
  /** The run's counts. */
  readonly summary: RunSummary;
  /** The error records of one reason. */
  errorsOf(reason: ErrorReason): readonly ErrorRecord[];
  /** The merged context of a stream at the end of the run. */
  context(streamId: string): ContextSnapshot | undefined;
}

/** An app for unit tests: runs crews over events given in code. */
export interface TestingApp {
  /**
   * Runs the crews over `events`: objects like `{ ts, kind, stream_id, payload }` (`ts` an ISO
   * string or a `Date`), or strings of JSON text. Each run starts from fresh crews and context.
   */
  run(events: Iterable<unknown>): Promise<TestRunResult>;
}

/**
 * Creates an app for unit tests, running the production engine over events given in code, with
 * actions and errors collected in memory. It reads no config file and no env vars: only the
 * defaults and `config`. Register fakes of your services in `providers`.
 *
 * @throws ConfigError or CrewDefinitionError at once, as `createLiveCrewApp` would.
 * @example
 * ```ts
 * const t = await createTestingApp({ crews: [ScoreTracker], providers: [{ token: ScoringRules, useValue: fake }] });
 * const r = await t.run([{ ts: '2024-05-01T12:00:00Z', kind: 'goal_scored', stream_id: 'm1', payload: { team: 'home' } }]);
 * expect(r.actions).toHaveLength(1);
 * ```
 */
export async function createTestingApp(options: TestingAppOptions): Promise<TestingApp> {
  const config = loadConfig({ file: false, values: options.config });
  const { context, stubCrews = [], ...given } = options;
  const appOptions = { ...given, crews: [...given.crews, ...stubCrews.map(stubCrew)] };
  buildCrewGraph(appOptions.crews);
  const seed = context === undefined ? undefined : checkLayer(ContextSeedSchema, { context }, 'createTestingApp options').context;
  return {
    async run(events) {
      const actions = new CollectingActionSink();
      const errors = new CollectingErrorSink();
      const app = await createLiveCrewApp({
        ...appOptions,
        configFile: false,
        env: {},
        configDefaults: { log_level: 'silent' },
        providers: [
          { token: EVENT_SOURCE, useValue: new ArrayEventSource(events) },
          { token: ACTION_SINK, useValue: actions },
          { token: ERROR_SINK, useValue: errors },
          ...(seed !== undefined ? [{ token: CONTEXT_BACKEND, useValue: seededContext((await adapterFactory('context', config.kv_backend))(config), seed) }] : []),
          ...(options.providers ?? []),
        ],
      });
      const summary = await app.run();
      return {
        actions: actions.actions,
        errors: errors.errors,
        summary,
        errorsOf: (reason) => errors.errors.filter((e) => e.payload.reason === reason),
        context: (streamId) => app.context(streamId),
      };
    },
  };
}
