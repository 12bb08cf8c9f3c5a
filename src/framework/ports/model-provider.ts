/**
 * The language and embedding models a run is configured with (DESIGN §9, §10).
 */
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';

/**
 * The models of a run by the names `models:` (language models, DESIGN §9) and `embedders:`
 * (embedding models, DESIGN §10) give them, as the AI SDK's provider packages make them. The core
 * wraps each one for every handler call (journal, budget, metrics, the call's signal); an adapter
 * only builds them.
 */
export interface ModelProvider {
  /** The language models' names, in configuration order. */
  readonly names: readonly string[];
  /** The embedding models' names, in configuration order. */
  readonly embedderNames: readonly string[];
  /**
   * Loads what the models need (provider packages, API keys), before anything runs.
   *
   * @throws ConfigError naming the `models.<name>` key of a model that cannot be made
   */
  open(): Promise<void>;
  /** The model named `name`, or undefined when it has none by that name. */
  languageModel(name: string): LanguageModelV3 | undefined;
  /** The embedding model named `name`, or undefined when it has none by that name. */
  embeddingModel(name: string): EmbeddingModelV3 | undefined;
  /**
   * What names a language or embedding model in a journaled request (`openai:gpt-4o-mini`), known
   * without `open()`: a replay compares requests without making any model, so it needs no key.
   * Undefined for a name it has none by.
   */
  identity(kind: 'language' | 'embedding', name: string): string | undefined;
}
