import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { LiveCrewConfig, LiveCrewConfigInput } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { loadRuntimeOverrides } from '../config/runtime-overrides.js';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { buildCrewGraph } from '../discovery/crew-graph.js';
import { declaredCrewId } from '../discovery/read-crew.js';
import { withIsolation } from '../isolation/isolated-crews.js';
import type { Clock } from '../ports/clock.js';
import type { LogFields, Logger } from '../ports/logger.js';
import type { Monitor } from '../ports/run-observer.js';
import { logObserver } from '../runtime/log-observer.js';
import { CLOCK, LOGGER, MONITOR } from '../tokens.js';
import type { LiveCrewAppOptions } from './assembly-options.js';
import { registerPorts, type PortDefault } from './port-bindings.js';
import { alsoObserving } from './run-observers.js';

/**
 * How one shape of process differs from another (an app, a distributed scheduler, a runner, an isolate): the
 * defaults under its configuration, what it refuses of it, and the ports it binds. Everything
 * else is assembled the same way.
 */
export interface ProcessShape {
  /** Defaults under the app's own (`kv_backend: jetstream` for a distributed process). */
  readonly configDefaults?: LiveCrewConfigInput;
  /** Refuses a configuration this shape cannot run (throws ConfigError). */
  check?(config: LiveCrewConfig, graph: CrewGraph): void;
  /** The ports it binds, each made unless a provider gives it. */
  ports(config: LiveCrewConfig, graph: CrewGraph): PortDefault[] | Promise<PortDefault[]>;
  /** Fields on every log line of the process (`{ stream }` for one serving a stream). */
  readonly logFields?: LogFields;
}

/** A process assembled from its options: configuration, crews, container, and the services every shape has. */
export interface AssembledProcess {
  readonly config: LiveCrewConfig;
  readonly graph: CrewGraph;
  /** A child of the given container: its ports bound, `providers` winning. */
  readonly container: DependencyContainer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The container's monitor, also telling the log and the given observers. */
  readonly monitor: Monitor;
}

/**
 * Assembles a process (DESIGN §13): resolves configuration and crews, makes its container and
 * binds the shape's ports in it, and resolves the services every process has. The one way every
 * shape starts.
 *
 * @throws ConfigError, CrewDefinitionError or DependencyCycleError, as `createLiveCrewApp`
 */
export async function assembleProcess(options: LiveCrewAppOptions, shape: ProcessShape): Promise<AssembledProcess> {
  const resolved = resolveCrews({ ...options, configDefaults: { ...shape.configDefaults, ...options.configDefaults } });
  shape.check?.(resolved.config, resolved.graph);
  return assembleResolved(resolved, options, shape);
}

/**
 * Assembles a process whose configuration and crews are already resolved: an isolate, whose app
 * resolved them and sent them down. What `assembleProcess` does after resolving.
 */
export async function assembleResolved(
  { config, graph }: { readonly config: LiveCrewConfig; readonly graph: CrewGraph },
  options: Pick<LiveCrewAppOptions, 'container' | 'providers' | 'observer'>,
  shape: Pick<ProcessShape, 'ports' | 'logFields'>,
): Promise<AssembledProcess> {
  const container = (options.container ?? rootContainer).createChildContainer();
  await registerPorts(container, config, options.providers ?? [], await shape.ports(config, graph));
  const logger = shape.logFields !== undefined ? container.resolve(LOGGER).child(shape.logFields) : container.resolve(LOGGER);
  const monitor = alsoObserving(container.resolve(MONITOR), [logObserver(logger), ...(options.observer ? [options.observer].flat() : [])]);
  return { config, graph, container, clock: container.resolve(CLOCK), logger, monitor };
}

/**
 * The configuration and the checked crew graph of an app's options: what every way of running
 * crews (in process, a distributed scheduler, a runner) starts from.
 *
 * @throws ConfigError, CrewDefinitionError or DependencyCycleError, as `createLiveCrewApp`
 */
export function resolveCrews(options: Pick<LiveCrewAppOptions, 'crews' | 'config' | 'configFile' | 'env' | 'configDefaults'>): { config: LiveCrewConfig; graph: CrewGraph } {
  const config = resolveConfig(options);
  const crewIds = options.crews.map(declaredCrewId).filter((id) => id !== undefined);
  return { config, graph: withIsolation(buildCrewGraph(options.crews, loadRuntimeOverrides(options.configFile, crewIds)), config) };
}

/**
 * The configuration of an app's options: defaults < `configDefaults` < the file < `LIVE_CREW_*`
 * env vars < `config`.
 *
 * @throws ConfigError naming the source and key of each problem
 */
export function resolveConfig(options: Pick<LiveCrewAppOptions, 'config' | 'configFile' | 'env' | 'configDefaults'>): LiveCrewConfig {
  return loadConfig({ file: options.configFile, env: options.env ?? process.env, values: options.config, defaults: options.configDefaults });
}
