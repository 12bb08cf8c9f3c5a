import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { LiveCrewConfig } from './config/config-schema.js';
import type { Clock } from './ports/clock.js';
import type { ContextBackend } from './ports/context-backend.js';
import type { DecisionJournal } from './ports/decision-journal.js';
import type { IsolateLauncher } from './ports/isolate-launcher.js';
import type { EventSource } from './ports/event-source.js';
import type { Logger } from './ports/logger.js';
import type { ModelProvider } from './ports/model-provider.js';
import type { Monitor } from './ports/run-observer.js';
import type { ActionSink, ContextSink, ErrorSink } from './ports/sinks.js';
import type { VectorStore } from './ports/vector-store.js';

/**
 * The DI tokens of the ports. The app binds each to the adapter its configuration names; a
 * provider for a token in `createLiveCrewApp({ providers })` replaces that binding.
 */
export const EVENT_SOURCE: InjectionToken<EventSource> = Symbol.for('live-crew:EventSource');
export const ACTION_SINK: InjectionToken<ActionSink> = Symbol.for('live-crew:ActionSink');
export const ERROR_SINK: InjectionToken<ErrorSink> = Symbol.for('live-crew:ErrorSink');
export const CONTEXT_BACKEND: InjectionToken<ContextBackend> = Symbol.for('live-crew:ContextBackend');
/** Where merged slices' `__context` records go; registered only with `context_out` or NATS transport (or given as a provider). */
export const CONTEXT_SINK: InjectionToken<ContextSink> = Symbol.for('live-crew:ContextSink');
export const CLOCK: InjectionToken<Clock> = Symbol.for('live-crew:Clock');
export const DECISION_JOURNAL: InjectionToken<DecisionJournal> = Symbol.for('live-crew:DecisionJournal');
export const MONITOR: InjectionToken<Monitor> = Symbol.for('live-crew:Monitor');
export const LOGGER: InjectionToken<Logger> = Symbol.for('live-crew:Logger');
export const MODEL_PROVIDER: InjectionToken<ModelProvider> = Symbol.for('live-crew:ModelProvider');
/** The vector store of `vector:`; registered only when vector search is on (or given as a provider). */
export const VECTOR_STORE: InjectionToken<VectorStore> = Symbol.for('live-crew:VectorStore');
/** What starts isolated crews' worker threads and child processes; registered only when a crew is isolated (or given as a provider). */
export const ISOLATE_LAUNCHER: InjectionToken<IsolateLauncher> = Symbol.for('live-crew:IsolateLauncher');
/** The resolved configuration, injectable into crews and services. */
export const LIVE_CREW_CONFIG: InjectionToken<LiveCrewConfig> = Symbol.for('live-crew:Config');

/**
 * A DI registration: a token and how to provide it, as tsyringe takes it. A registration for a
 * port token (`EVENT_SOURCE`, `ACTION_SINK`, `ERROR_SINK`, `CONTEXT_BACKEND`, `CONTEXT_SINK`, `CLOCK`, `DECISION_JOURNAL`,
 * `VECTOR_STORE`) replaces the adapter the configuration would choose.
 */
export type ProviderRegistration<T = unknown> = { token: InjectionToken<T> } & (
  | { useValue: T }
  | { useClass: new (...args: never[]) => T }
  | { useFactory: (container: DependencyContainer) => T }
  | { useToken: InjectionToken<T> }
);
