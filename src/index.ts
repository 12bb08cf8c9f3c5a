/**
 * live-crew: run many crews of reactive logic over real-time event streams, in deterministic
 * time slices, with shared context and declared dependencies.
 */
import 'reflect-metadata';
import './adapters/builtin.js';

export { Crew, type CrewOptions } from './framework/decorators/crew.js';
export { OnEvent, type OnEventOptions } from './framework/decorators/on-event.js';
export { DependsOn } from './framework/decorators/depends-on.js';
export { UseInterceptors } from './framework/decorators/use-interceptors.js';
// tsyringe's decorators and helpers, so a service with constructor dependencies needs no import of
// tsyringe itself: `@injectable()` on it, `@inject(TOKEN)` for an interface or a value.
export { injectable, inject, injectAll, singleton, scoped, delay, Lifecycle, type DependencyContainer, type InjectionToken } from 'tsyringe';
export type { InterceptorClass, InterceptorRef } from './framework/ports/interceptor.js';
export type { Interceptor, HandlerCall, CallNext } from './framework/ports/interceptor.js';
export { CREW_METADATA, DEPENDENCIES_METADATA, HANDLERS_METADATA, INTERCEPTORS_METADATA } from './framework/decorators/metadata-keys.js';

export {
  createLiveCrewApp,
  type LiveCrewApp,
  type LiveCrewAppOptions,
  type RunSummary,
} from './framework/app.js';
export type { IdleCrew } from './framework/runtime/idle-crews.js';
export type { CrewContext, ContextView, EmitOptions, VectorCollection, VectorDocument, VectorSearchOptions } from './framework/ports/crew-context.js';

export { type Event, type EventInput, type InputLimits, EventDecoder, eventSchema, KindSchema, StreamIdSchema, TimestampSchema } from './framework/model/event.js';
export { type Action, ActionSchema, ACTION_TTL, encodeAction } from './framework/model/action.js';
export { type Dependency, type DependencyInput, CrewDependencySchema, EventDependencySchema, parseDependency, CrewIdSchema } from './framework/model/dependency.js';
export { type ErrorRecord, type ErrorDetails, ErrorReason, ERROR_KIND, UNKNOWN_STREAM, encodeErrorRecord } from './framework/model/error-record.js';
export { sliceIndex } from './framework/model/slice.js';
export { type ContextRecord, CONTEXT_KIND, encodeContextRecord } from './framework/model/context-record.js';
export type { JsonValue } from './framework/model/json.js';

export { loadConfig, DEFAULT_CONFIG_FILE, ENV_PREFIX, type ConfigSources } from './framework/config/load-config.js';
export { inputLimits } from './framework/config/limits.js';
export { CONFIG_DEFAULTS, type LiveCrewConfig, type LiveCrewConfigInput, type ConfigKey } from './framework/config/config-schema.js';

export { buildCrewGraph } from './framework/discovery/crew-graph.js';
export type { CrewClass, CrewDefinition, CrewGraph, HandlerDefinition } from './framework/discovery/crew-definition.js';

export {
  LiveCrewError,
  ConfigError,
  UsageError,
  CrewDefinitionError,
  ConstructionError,
  type ConstructionFailure,
  type ConstructorStep,
  DependencyCycleError,
  HandlerOutputError,
  InputError,
  ModelCallError,
  VectorStoreError,
  StoredStateError,
  ConnectionError,
  OutputError,
  LifecycleError,
} from './framework/errors.js';
export type { OnStart, OnStop } from './framework/runtime/lifecycle-hooks.js';

export type * from './framework/model/input-record.js';
export type * from './framework/model/committed-context.js';
export type * from './framework/model/vector.js';
export type * from './framework/ports/maybe-promise.js';
export type * from './framework/ports/event-source.js';
export type * from './framework/ports/sinks.js';
export type * from './framework/ports/context-backend.js';
export type * from './framework/ports/decision-journal.js';
export type * from './framework/ports/run-observer.js';
export type * from './framework/ports/model-provider.js';
export type * from './framework/ports/vector-store.js';
export type * from './framework/ports/logger.js';
export type * from './framework/ports/clock.js';
export type { CrewCall, CrewSliceDone, CrewWork, CrewWorkSink, SliceBase, SliceClose, SliceMerge, StreamEnd, WantedReport } from './framework/runner-protocol.js';
export {
  type ProviderRegistration,
  ACTION_SINK,
  CLOCK,
  CONTEXT_BACKEND,
  DECISION_JOURNAL,
  ERROR_SINK,
  EVENT_SOURCE,
  LIVE_CREW_CONFIG,
  LOGGER,
  MODEL_PROVIDER,
  MONITOR,
  VECTOR_STORE,
  CONTEXT_SINK,
} from './framework/tokens.js';
export { loadCrews, type CrewModule } from './framework/discovery/crew-module.js';
export type { EmbedderSpec, ModelSpec } from './framework/config/model-config.js';
export type { VectorConfig } from './framework/config/vector-config.js';
export { registerAdapter, registerAdapterModule, type AdapterPorts, type AdapterFactory } from './framework/adapter-registry.js';
export { systemClock } from './framework/system-clock.js';
export { vectorTools, type VectorTools, type VectorToolOptions, type CrewTool, type FoundDocument } from './framework/vectors/vector-tools.js';
