import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import type { Clock, DecisionJournal, Logger, ModelProvider, RunObserver } from '../ports.js';
import type { CallScope } from '../runtime/call-scope.js';
import { ModelBudgets } from './model-budget.js';
import { RecordedModel, type ModelCallServices, type ReplayMissing } from './recorded-model.js';
import { lookUpEffect, recordEffect, storeEffect, type EffectEntry, type EffectOutcome } from './recorded-effect.js';

/** The name `ctx.model()` falls back to when the crew names no default and several models are configured. */
export const DEFAULT_MODEL = 'default';

/** What model calls of a run need: the models, and where their answers and reports go. */
export interface ModelCallOptions {
  readonly provider: ModelProvider;
  readonly journal: DecisionJournal;
  readonly clock: Clock;
  readonly replayMissing: ReplayMissing;
  /** Retries of a 429 or 5xx, per model name. */
  readonly maxRetries: (name: string) => number;
  readonly observer?: RunObserver;
  readonly logger?: Logger;
}

/** What gives a handler call its models (`ctx.model()`): the run's `ModelCalls`, or an isolate's stand-ins. */
export interface ModelAccess {
  languageModel(scope: CallScope, name: string | undefined): LanguageModelV3;
  /** Runs `effect` once, journaled (`ctx.recorded`). */
  recorded<T>(scope: CallScope, name: string, effect: () => T | Promise<T>): Promise<T>;
}

/**
 * The model calls of a run (DESIGN §9): hands each handler call its view of a configured model
 * (`ctx.model(name?)`), every view sharing the run's journal, budgets, metrics and logs.
 */
export class ModelCalls implements ModelAccess {
  readonly #provider: ModelProvider;
  readonly #services: ModelCallServices;
  readonly #maxRetries: (name: string) => number;

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
  }

  /**
   * The model `name` (default: the crew's `model`, else the only one configured, else `default`)
   * as the call `scope` sees it.
   *
   * @throws HandlerOutputError naming the crew and the configured models, for a name not configured
   */
  languageModel(scope: CallScope, name: string | undefined): LanguageModelV3 {
    const crew = scope.route.crew.definition;
    const known = this.#provider.names;
    const chosen = name ?? scope.knobs().model ?? (known.length === 1 ? known[0] : known.includes(DEFAULT_MODEL) ? DEFAULT_MODEL : undefined);
    if (chosen === undefined) throw new HandlerOutputError(messages.noDefaultModel(crew.id, known));
    const model = this.#provider.languageModel(chosen);
    if (model === undefined) throw new HandlerOutputError(messages.unknownModel(crew.id, chosen, known));
    return new RecordedModel(model, { name: chosen, maxRetries: this.#maxRetries(chosen) }, scope, this.#services);
  }

  recorded<T>(scope: CallScope, name: string, effect: () => T | Promise<T>): Promise<T> {
    return recordEffect(this.#services, scope, name, effect);
  }

  /** The journal's entry for the call's next effect (an isolated crew runs the effect itself). */
  lookUpEffect(scope: CallScope, name: string): EffectEntry {
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

/** A provider with no models: what a run without `models:` gets. */
export const NO_MODELS: ModelProvider = {
  names: [],
  open: async () => {},
  languageModel: () => undefined,
};

/** `provider` with `given` models beside its own, the given winning; opening opens `provider`. */
export function withModels(provider: ModelProvider, given: Readonly<Record<string, LanguageModelV3>>): ModelProvider {
  const names = Object.keys(given);
  if (names.length === 0) return provider;
  return {
    names: [...new Set([...provider.names, ...names])],
    open: () => provider.open(),
    languageModel: (name) => given[name] ?? provider.languageModel(name),
  };
}
