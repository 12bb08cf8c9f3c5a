import { ConfigError } from './errors.js';
import { messages } from './messages.js';
import { adapterNames, noteAdapterName, type PortName } from './adapter-names.js';
import type { LiveCrewConfig } from './config/config-schema.js';
import type { ContextBackend } from './ports/context-backend.js';
import type { DecisionJournal } from './ports/decision-journal.js';
import type { EventSource } from './ports/event-source.js';
import type { IsolateLauncher } from './ports/isolate-launcher.js';
import type { Logger } from './ports/logger.js';
import type { ModelProvider } from './ports/model-provider.js';
import type { Monitor } from './ports/run-observer.js';
import type { ActionSink, ContextSink, ErrorSink } from './ports/sinks.js';
import type { VectorStore } from './ports/vector-store.js';

/** Builds an adapter for the run's configuration. */
export type AdapterFactory<T> = (config: LiveCrewConfig) => T;

/** The ports chosen by configuration, and the type each adapter provides. */
export interface AdapterPorts extends Record<PortName, unknown> {
  source: EventSource;
  actions: ActionSink;
  errors: ErrorSink;
  context: ContextBackend;
  journal: DecisionJournal;
  monitor: Monitor;
  logger: Logger;
  models: ModelProvider;
  vectors: VectorStore;
  contextOut: ContextSink;
  isolates: IsolateLauncher;
}

/** A port's adapter name: the config value that selects it (`file`, `memory`, ...). */
export type AdapterName = string;

/** An adapter's factory, or how to import the module that makes it: an adapter's client library loads only when configured. */
type Registration<T> = { factory: AdapterFactory<T> } | { load: () => Promise<AdapterFactory<T>> };

const registry: { [P in keyof AdapterPorts]: Map<AdapterName, Registration<AdapterPorts[P]>> } = {
  source: new Map(),
  actions: new Map(),
  errors: new Map(),
  context: new Map(),
  journal: new Map(),
  monitor: new Map(),
  logger: new Map(),
  models: new Map(),
  vectors: new Map(),
  contextOut: new Map(),
  isolates: new Map(),
};

/**
 * Makes an adapter selectable by configuration. The core never imports an adapter: each
 * adapter package registers itself, and the package entry registers the built-in ones.
 */
export function registerAdapter<P extends keyof AdapterPorts>(port: P, name: AdapterName, factory: AdapterFactory<AdapterPorts[P]>): void {
  registry[port].set(name, { factory } as Registration<AdapterPorts[P]> as never);
  noteAdapterName(port, name);
}

/**
 * Makes an adapter selectable by configuration without importing it: `load` imports its module
 * when a configuration first chooses it.
 */
export function registerAdapterModule<P extends keyof AdapterPorts>(port: P, name: AdapterName, load: () => Promise<AdapterFactory<AdapterPorts[P]>>): void {
  registry[port].set(name, { load } as Registration<AdapterPorts[P]> as never);
  noteAdapterName(port, name);
}

/**
 * The factory registered for a port under a name, its module imported the first time it is asked for.
 *
 * @throws ConfigError when none is, listing those that are.
 */
export async function adapterFactory<P extends keyof AdapterPorts>(port: P, name: AdapterName): Promise<AdapterFactory<AdapterPorts[P]>> {
  const registration = registry[port].get(name) as Registration<AdapterPorts[P]> | undefined;
  if (!registration) throw new ConfigError(messages.unknownAdapter(port, name, adapterNames(port)));
  if ('factory' in registration) return registration.factory;
  const factory = await registration.load();
  registry[port].set(name, { factory } as never);
  return factory;
}
