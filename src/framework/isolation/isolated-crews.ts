import type { ModelCalls } from '../model-calls/model-calls.js';
import { resolve } from 'node:path';
import type { LiveCrewConfig } from '../config/config-schema.js';
import { isIsolated, type CrewDefinition, type CrewGraph } from '../discovery/crew-definition.js';
import { ConfigError, CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import type { IsolateLauncher } from '../ports/isolate-launcher.js';
import type { Logger } from '../ports/logger.js';
import { describeThrown } from '../describe-thrown.js';
import { IsolatedCrew } from './isolated-crew.js';

/**
 * The graph with every crew's isolation resolved: its own, else the config's `isolation`. An
 * isolated crew runs `concurrency` isolates, one call each, so its concurrency defaults to 1.
 */
export function withIsolation(graph: CrewGraph, config: LiveCrewConfig): CrewGraph {
  return {
    crews: graph.crews.map((crew) => {
      const isolation = crew.isolation ?? config.isolation;
      return { ...crew, isolation, concurrency: isolation === 'none' ? crew.concurrency : (crew.concurrency ?? 1) };
    }),
  };
}

/** The isolated crews of an app (DESIGN §8), started with it and ended with it. */
export class IsolatedCrews {
  readonly #crews = new Map<string, IsolatedCrew>();

  /**
   * @param launcher - what starts the isolates; asked for only when a crew is isolated
   * @throws ConfigError when a crew is isolated and no `crewsModule` says where to load it from
   */
  constructor(graph: CrewGraph, crewsModule: string | undefined, config: LiveCrewConfig, services: { readonly clock: Clock; readonly logger: Logger; readonly launcher: () => IsolateLauncher }) {
    const isolated = graph.crews.filter(isIsolated);
    if (isolated.length === 0) return;
    if (crewsModule === undefined) throw new ConfigError(messages.isolationNeedsModule(isolated.map((crew) => crew.id)));
    const { clock, logger } = services;
    const launcher = services.launcher();
    for (const crew of isolated) {
      this.#crews.set(crew.id, new IsolatedCrew(crew, { kind: crew.isolation as 'worker' | 'process', crewsModule: resolve(crewsModule), config, clock, logger, launcher }));
    }
  }

  /** What stands in for an isolated crew's instance in the app; undefined for a crew run in process. */
  readonly standIn = (definition: CrewDefinition): object | undefined => this.#crews.get(definition.id)?.instance;

  /**
   * Starts an isolate of each crew, so one that cannot start stops the app now.
   *
   * @throws CrewDefinitionError naming each crew that could not start (in run order) and why
   */
  async start(models: ModelCalls): Promise<void> {
    const crews = [...this.#crews];
    const started = await Promise.allSettled(crews.map(([, crew]) => crew.start(models)));
    const failed = started.flatMap((outcome, i) => (outcome.status === 'rejected' ? [messages.isolatedCrewCannotStart(crews[i]![0], describeThrown(outcome.reason))] : []));
    if (failed.length > 0) throw new CrewDefinitionError(failed.join('\n'));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#crews.values()].map((crew) => crew.close()));
  }
}
