import { ConfigError } from './errors.js';
import { messages } from './messages.js';
import type { ActionSink, AdapterFactory, ContextBackend, ContextSink, DecisionJournal, ErrorSink, EventSource, Logger, ModelProvider, Monitor, VectorStore } from './ports.js';

/** The ports chosen by configuration, and the type each adapter provides. */
export interface AdapterPorts {
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
}

/** A port's adapter name: the config value that selects it (`file`, `memory`, ...). */
export type AdapterName = string;

const registry: { [P in keyof AdapterPorts]: Map<AdapterName, AdapterFactory<AdapterPorts[P]>> } = {
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
};

/**
 * Makes an adapter selectable by configuration. The core never imports an adapter: each
 * adapter package registers itself, and the package entry imports the built-in ones.
 */
export function registerAdapter<P extends keyof AdapterPorts>(port: P, name: AdapterName, factory: AdapterFactory<AdapterPorts[P]>): void {
  registry[port].set(name, factory as never);
}

/**
 * The factory registered for a port under a name.
 *
 * @throws ConfigError when none is, listing those that are.
 */
export function adapterFactory<P extends keyof AdapterPorts>(port: P, name: AdapterName): AdapterFactory<AdapterPorts[P]> {
  const factory = registry[port].get(name) as AdapterFactory<AdapterPorts[P]> | undefined;
  if (!factory) throw new ConfigError(messages.unknownAdapter(port, name, adapterNames(port)));
  return factory;
}

/** The names adapters are registered under for a port, in registration order. */
export function adapterNames(port: keyof AdapterPorts): string[] {
  return [...registry[port].keys()];
}
