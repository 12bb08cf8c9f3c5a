import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { adapterFactory, type AdapterPorts } from '../adapter-registry.js';
import type { LiveCrewConfig } from '../config/config-schema.js';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { isIsolated } from '../discovery/crew-definition.js';
import { NO_MODELS } from '../model-calls/model-calls.js';
import type { ModelProvider } from '../ports/model-provider.js';
import { NO_MONITOR } from '../runtime/heartbeat.js';
import { systemClock } from '../system-clock.js';
import {
  ACTION_SINK,
  CLOCK,
  CONTEXT_BACKEND,
  CONTEXT_SINK,
  DECISION_JOURNAL,
  ERROR_SINK,
  EVENT_SOURCE,
  ISOLATE_LAUNCHER,
  LIVE_CREW_CONFIG,
  LOGGER,
  MODEL_PROVIDER,
  MONITOR,
  VECTOR_STORE,
  type ProviderRegistration,
} from '../tokens.js';

/** A port's default: how to make it, possibly importing its adapter's module first. */
export type PortDefault = readonly [InjectionToken<unknown>, () => unknown];

/** Makes the adapter registered for a port under a name, importing its module if it is not loaded yet. */
export function adapter<P extends keyof AdapterPorts>(port: P, name: string, config: LiveCrewConfig): () => Promise<AdapterPorts[P]> {
  return async () => (await adapterFactory(port, name))(config);
}

/** The ports of a process that reads its own input and writes its own output (`createLiveCrewApp`): each adapter as the config chooses. */
export function inProcessPorts(config: LiveCrewConfig, graph: CrewGraph): PortDefault[] {
  return [
    [EVENT_SOURCE, adapter('source', config.transport, config)],
    [ACTION_SINK, adapter('actions', config.transport, config)],
    [ERROR_SINK, adapter('errors', config.transport, config)],
    [CONTEXT_BACKEND, adapter('context', config.kv_backend, config)],
    [DECISION_JOURNAL, adapter('journal', config.transport, config)],
    // `__context` records: to a file when asked, on `live.<stream>.ctx` over NATS, else nowhere.
    ...(config.context_out !== null || config.transport === 'nats' ? [[CONTEXT_SINK, adapter('contextOut', config.context_out !== null ? 'file' : 'nats', config)] as PortDefault] : []),
    ...isolationPorts(config, graph),
    ...serviceDefaults(config),
  ];
}

/** What a process hosting isolated crews needs: the launcher of their worker threads and child processes; nothing otherwise. */
export function isolationPorts(config: LiveCrewConfig, graph: CrewGraph): PortDefault[] {
  return graph.crews.some(isIsolated) ? [[ISOLATE_LAUNCHER, adapter('isolates', 'node', config)]] : [];
}

/**
 * What an isolate binds (DESIGN §8): a clock and a logger for its crew's constructor to inject, and
 * no monitor. Its models, vectors, journal and output are the app's, reached over its channel.
 */
export function isolatePorts(config: LiveCrewConfig): PortDefault[] {
  return [
    [CLOCK, () => systemClock],
    [MONITOR, () => NO_MONITOR],
    [LOGGER, adapter('logger', 'pino', config)],
  ];
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
