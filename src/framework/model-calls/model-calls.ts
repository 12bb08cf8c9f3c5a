import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { Logger } from '../ports/logger.js';
import type { ModelProvider } from '../ports/model-provider.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { VectorStore } from '../ports/vector-store.js';
import type { CallSite } from '../runtime/call-site.js';
import { ModelBudgets } from './model-budget.js';
import { RecordedModel, type ModelCallServices, type ReplayMissing } from './recorded-model.js';
import type { VectorConfig } from '../config/vector-config.js';
import type { VectorCollection } from '../ports/crew-context.js';
import { VectorCalls, type VectorCallOptions } from '../vectors/vector-calls.js';
import type { VectorWrite } from '../model/vector.js';
import { recordedEmbeddingModel } from '../vectors/recorded-embedding-model.js';
import { lookUpEffect, recordEffect, storeEffect, type EffectEntry, type EffectOutcome } from './recorded-effect.js';

/** The name `ctx.model()` falls back to when the crew names no default and several models are configured. */
export const DEFAULT_MODEL = 'default';

/** The model (or embedder) used where none is named, of those configured: the only one, else `default`; undefined when neither. */
export function implicitModelName(known: readonly string[]): string | undefined {
  return known.length === 1 ? known[0] : known.includes(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined;
}

/** What model calls of a run need: the models, and where their answers and reports go. */
export interface ModelCallOptions {
  readonly provider: ModelProvider;
  /** `vector:` when vector search is on: its store (none for a replay that takes every search from its journal), its collections and embedder. */
  readonly vectors?: { readonly store: VectorStore | undefined; readonly config: VectorConfig; readonly limits: VectorCallOptions['limits'] };
  readonly journal: DecisionJournal;
  readonly clock: Clock;
  readonly replayMissing: ReplayMissing;
  /** Retries of a 429 or 5xx, per model name. */
  readonly maxRetries: (name: string) => number;
  readonly observer?: RunObserver;
  readonly logger?: Logger;
}

/** What gives a handler call its models and vectors (`ctx.model()`, `ctx.embedder()`, `ctx.vectors()`): the run's `ModelCalls`, or an isolate's stand-ins. */
export interface ModelAccess {
  languageModel(scope: CallSite, name: string | undefined): LanguageModelV3;
  /** Runs `effect` once, journaled (`ctx.recorded`). */
  recorded<T>(scope: CallSite, name: string, effect: () => T | Promise<T>): Promise<T>;
  /** The embedding model `name` (`ctx.embedder()`), journaled. */
  embeddingModel(scope: CallSite, name: string | undefined): EmbeddingModelV3;
  /** A vector collection (`ctx.vectors()`). */
  vectors(scope: CallSite, collection: string): VectorCollection;
  /** Keeps a call's vector writes for its slice's merge. */
  holdVectorWrites(scope: CallSite, slice: number, writes: readonly VectorWrite[]): void;
}

/**
 * The model calls of a run (DESIGN §9, §10): hands each handler call its view of a configured
 * model (`ctx.model(name?)`), embedding model (`ctx.embedder(name?)`) and vector collection
 * (`ctx.vectors(name)`, with `vector:`), every view sharing the run's journal, budgets, metrics
 * and logs.
 */
export class ModelCalls implements ModelAccess {
  readonly #provider: ModelProvider;
  readonly #services: ModelCallServices;
  readonly #maxRetries: (name: string) => number;
  /** The run's vector search; undefined when `vector:` is off. */
  readonly vectorCalls: VectorCalls | undefined;
  readonly #defaultEmbedder: string | undefined;

  constructor(options: ModelCallOptions) {
    this.#provider = options.provider;
    this.#maxRetries = options.maxRetries;
    this.#services = {
      journal: options.journal,
      clock: options.clock,
      budgets: new ModelBudgets(),
      replayMissing: options.replayMissing,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    };
    const vectors = options.vectors;
    this.#defaultEmbedder = vectors?.config.embedder;
    this.vectorCalls =
      vectors === undefined
        ? undefined
        : new VectorCalls({
            ...vectors,
            services: this.#services,
            embedder: {
              name: (crew, collection) => vectors.config.collections?.[collection]?.embedder ?? this.#embedderName(crew, undefined),
              raw: (crew, name) => this.#embedder(crew, name),
              recorded: (scope, name) => this.embeddingModel(scope, name),
            },
          });
  }

  /** The run's decision journal, which its calls' answers and timeouts go to. */
  get journal(): DecisionJournal {
    return this.#services.journal;
  }

  /** Closes the vector store, once the writes of every merged slice are applied. */
  async close(): Promise<void> {
    await this.vectorCalls?.close();
  }

  embeddingModel(scope: CallSite, name: string | undefined): EmbeddingModelV3 {
    const chosen = this.#embedderName(scope.crewId, name);
    return recordedEmbeddingModel(this.#embedder(scope.crewId, chosen), { name: chosen, identity: this.#provider.identity('embedding', chosen)! }, scope, this.#services);
  }

  vectors(scope: CallSite, collection: string): VectorCollection {
    if (this.vectorCalls === undefined) throw new HandlerOutputError(messages.vectorsOff(scope.crewId));
    return this.vectorCalls.collection(scope, collection);
  }

  holdVectorWrites(scope: CallSite, slice: number, writes: readonly VectorWrite[]): void {
    this.vectorCalls?.hold(scope.streamId, slice, scope.route.crew.index, writes);
  }

  /** The embedder a crew gets without naming one: `vector.embedder`, else the only one, else `default`. */
  #embedderName(crew: string, name: string | undefined): string {
    const known = this.#provider.embedderNames;
    const chosen = name ?? this.#defaultEmbedder ?? implicitModelName(known);
    if (chosen === undefined) throw new HandlerOutputError(messages.noDefaultEmbedder(crew, known));
    return chosen;
  }

  #embedder(crew: string, name: string): EmbeddingModelV3 {
    const model = this.#provider.embeddingModel(name);
    if (model === undefined) throw new HandlerOutputError(messages.unknownEmbedder(crew, name, this.#provider.embedderNames));
    return model;
  }

  /**
   * The model `name` (default: the crew's `model`, else the only one configured, else `default`)
   * as the call `scope` sees it.
   *
   * @throws HandlerOutputError naming the crew and the configured models, for a name not configured
   */
  languageModel(scope: CallSite, name: string | undefined): LanguageModelV3 {
    const crew = scope.route.crew.definition;
    const known = this.#provider.names;
    const chosen = name ?? scope.knobs().model ?? implicitModelName(known);
    if (chosen === undefined) throw new HandlerOutputError(messages.noDefaultModel(crew.id, known));
    const model = this.#provider.languageModel(chosen);
    if (model === undefined) throw new HandlerOutputError(messages.unknownModel(crew.id, chosen, known));
    return new RecordedModel(model, { name: chosen, identity: this.#provider.identity('language', chosen)!, maxRetries: this.#maxRetries(chosen) }, scope, this.#services);
  }

  recorded<T>(scope: CallSite, name: string, effect: () => T | Promise<T>): Promise<T> {
    return recordEffect(this.#services, scope, name, effect);
  }

  /** The journal's entry for the call's next effect (an isolated crew runs the effect itself). */
  lookUpEffect(scope: CallSite, name: string): EffectEntry {
    return lookUpEffect(this.#services, scope, name);
  }

  /** Records the outcome of an effect an isolated crew ran. */
  storeEffect(entry: Pick<EffectEntry, 'key' | 'what'>, name: string, outcome: EffectOutcome): Promise<void> {
    return storeEffect(this.#services, entry, name, outcome);
  }
}

/** Problems of crews whose `model` names no configured model: reported at start, with the rest. */
export function unknownCrewModels(graph: CrewGraph, provider: Pick<ModelProvider, 'names'>): string[] {
  return graph.crews.flatMap((crew) => (crew.model === undefined || provider.names.includes(crew.model) ? [] : [messages.crewModelUnknown(crew.id, crew.model, provider.names)]));
}

/** Problems of `vector:` naming embedders not configured (`vector.embedder`, a collection's `embedder`): reported at start. */
export function unknownVectorEmbedders(vector: VectorConfig | null, provider: Pick<ModelProvider, 'embedderNames'>): string[] {
  if (vector === null) return [];
  const named: Array<[string, string | undefined]> = [
    ['vector.embedder', vector.embedder],
    ...Object.entries(vector.collections ?? {}).map(([name, shape]): [string, string | undefined] => [`vector.collections.${name}.embedder`, shape.embedder]),
  ];
  return named.flatMap(([key, name]) => (name === undefined || provider.embedderNames.includes(name) ? [] : [messages.embedderNotConfigured(key, name, provider.embedderNames)]));
}

/** A provider with no models: what a run without `models:` gets. */
export const NO_MODELS: ModelProvider = {
  names: [],
  embedderNames: [],
  open: async () => {},
  languageModel: () => undefined,
  embeddingModel: () => undefined,
  identity: () => undefined,
};

/** Models given in code (`createLiveCrewApp({ models, embedders })`). */
export interface GivenModels {
  readonly models?: Readonly<Record<string, LanguageModelV3>> | undefined;
  readonly embedders?: Readonly<Record<string, EmbeddingModelV3>> | undefined;
}

/** `provider` with `given` models beside its own, the given winning; opening opens `provider`. */
export function withModels(provider: ModelProvider, given: GivenModels): ModelProvider {
  const models = given.models ?? {};
  const embedders = given.embedders ?? {};
  if (Object.keys(models).length === 0 && Object.keys(embedders).length === 0) return provider;
  return {
    names: [...new Set([...provider.names, ...Object.keys(models)])],
    embedderNames: [...new Set([...provider.embedderNames, ...Object.keys(embedders)])],
    open: () => provider.open(),
    languageModel: (name) => models[name] ?? provider.languageModel(name),
    embeddingModel: (name) => embedders[name] ?? provider.embeddingModel(name),
    identity: (kind, name) => {
      const made = kind === 'language' ? models[name] : embedders[name];
      return made === undefined ? provider.identity(kind, name) : `${made.provider}:${made.modelId}`;
    },
  };
}

/**
 * `provider` as a replay that takes every answer from its journal sees it (`replay_missing:
 * fail`): its models are never made, so no key, package or network is needed; each stands in
 * with its identity, and refuses to be called (the journal answers every call, or the call is
 * a divergence before any model is asked).
 */
export function replayedModels(provider: ModelProvider): ModelProvider {
  const standIn = (kind: 'language' | 'embedding', name: string) => {
    const identity = provider.identity(kind, name);
    if (identity === undefined) return undefined;
    const at = identity.indexOf(':');
    const refuse = async (): Promise<never> => {
      throw new Error(messages.replayedModelCalled(name));
    };
    return { specificationVersion: 'v3' as const, provider: identity.slice(0, at), modelId: identity.slice(at + 1), refuse };
  };
  return {
    names: provider.names,
    embedderNames: provider.embedderNames,
    open: async () => {},
    languageModel: (name) => {
      const model = standIn('language', name);
      return model && { ...model, supportedUrls: {}, doGenerate: model.refuse, doStream: model.refuse };
    },
    embeddingModel: (name) => {
      const model = standIn('embedding', name);
      return model && { ...model, maxEmbeddingsPerCall: undefined, supportsParallelCalls: true, doEmbed: model.refuse };
    },
    identity: (kind, name) => provider.identity(kind, name),
  };
}
