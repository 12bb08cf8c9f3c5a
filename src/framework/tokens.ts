import type { InjectionToken } from 'tsyringe';
import type { LiveCrewConfig } from './config/config-schema.js';
import type { ActionSink, Clock, ContextBackend, ContextSink, DecisionJournal, ErrorSink, EventSource, Logger, ModelProvider, Monitor, VectorStore } from './ports.js';

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
/** The resolved configuration, injectable into crews and services. */
export const LIVE_CREW_CONFIG: InjectionToken<LiveCrewConfig> = Symbol.for('live-crew:Config');
