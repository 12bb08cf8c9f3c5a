import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { EmbedderSpec, ModelSpec } from '../../framework/config/model-config.js';
import { ConfigError } from '../../framework/errors.js';
import type { ModelProvider } from '../../framework/ports/model-provider.js';
import { SCRIPTED_MODEL_ID, scriptedModel } from './scripted-model.js';
import { hashEmbedder } from './hash-embedder.js';
import { messages } from '../../framework/messages.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** Each hosted provider: its package (an optional dependency, loaded only when configured), its factory, its key's default env var. */
const HOSTED = {
  openai: { pkg: '@ai-sdk/openai', factory: 'createOpenAI', keyEnv: 'OPENAI_API_KEY' },
  anthropic: { pkg: '@ai-sdk/anthropic', factory: 'createAnthropic', keyEnv: 'ANTHROPIC_API_KEY' },
  'openai-compatible': { pkg: '@ai-sdk/openai-compatible', factory: 'createOpenAICompatible', keyEnv: undefined },
} as const;

/** What a provider package's factory makes: a provider, callable for a language model, with `embeddingModel` (AI SDK 6). */
type ProviderFactory = (settings: Record<string, unknown>) => ((modelId: string) => LanguageModelV3) & { embeddingModel?(modelId: string): EmbeddingModelV3 };

/** A hosted model's entry, language or embedding: what making its provider needs. */
type HostedSpec = Extract<ModelSpec | EmbedderSpec, { provider: keyof typeof HOSTED }>;

/**
 * The models of `models:` and `embedders:` made with the AI SDK's provider packages (DESIGN §9,
 * §10). A provider's package is imported when a model uses it, so a run without models, or with
 * only `scripted` and `hash` ones, loads none. Every problem is found at `open()`, before anything
 * runs: a package not installed, a key not set.
 */
export class AiSdkModelProvider implements ModelProvider {
  readonly names: readonly string[];
  readonly embedderNames: readonly string[];
  readonly #specs: Readonly<Record<string, ModelSpec>>;
  readonly #embedderSpecs: Readonly<Record<string, EmbedderSpec>>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #models = new Map<string, LanguageModelV3>();
  readonly #embedders = new Map<string, EmbeddingModelV3>();

  constructor(specs: Readonly<Record<string, ModelSpec>>, embedders: Readonly<Record<string, EmbedderSpec>> = {}, env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#specs = specs;
    this.#embedderSpecs = embedders;
    this.#env = env;
    this.names = Object.keys(specs);
    this.embedderNames = Object.keys(embedders);
  }

  async open(): Promise<void> {
    const problems: string[] = [];
    const make = async <T>(made: Map<string, T>, name: string, build: () => Promise<T>) => {
      try {
        made.set(name, await build());
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(`  ${error.message}`);
      }
    };
    for (const [name, spec] of Object.entries(this.#specs)) await make(this.#models, name, () => this.#makeLanguageModel(name, spec));
    for (const [name, spec] of Object.entries(this.#embedderSpecs)) await make(this.#embedders, name, () => this.#makeEmbeddingModel(name, spec));
    if (problems.length > 0) throw new ConfigError(messages.configInvalid('models: or embedders:', problems.join('\n')));
  }

  languageModel(name: string): LanguageModelV3 | undefined {
    return this.#models.get(name);
  }

  /**
   * From the configuration, the same made or not: `<provider>:<model>` (a hosted model), the
   * scripted model's and the hash embedder's own names (`scripted:<model>`, `live-crew.hash:hash-<n>`).
   */
  identity(kind: 'language' | 'embedding', name: string): string | undefined {
    const spec = kind === 'language' ? this.#specs[name] : this.#embedderSpecs[name];
    if (spec === undefined) return undefined;
    if (spec.provider === 'scripted') return `scripted:${spec.model ?? SCRIPTED_MODEL_ID}`;
    if (spec.provider === 'hash') return `live-crew.hash:hash-${spec.dimensions}`;
    return `${spec.provider}:${spec.model}`;
  }

  embeddingModel(name: string): EmbeddingModelV3 | undefined {
    return this.#embedders.get(name);
  }

  async #makeLanguageModel(name: string, spec: ModelSpec): Promise<LanguageModelV3> {
    if (spec.provider === 'scripted') {
      return scriptedModel(
        spec.replies.map(({ when, text }) => ({ text, ...(when !== undefined ? { when: new RegExp(when) } : {}) })),
        { ...(spec.model !== undefined ? { modelId: spec.model } : {}), ...(spec.latency_ms !== undefined ? { latencyMs: spec.latency_ms } : {}) },
      );
    }
    return (await this.#provider(`models.${name}`, name, spec))(spec.model);
  }

  async #makeEmbeddingModel(name: string, spec: EmbedderSpec): Promise<EmbeddingModelV3> {
    if (spec.provider === 'hash') return hashEmbedder({ dimensions: spec.dimensions });
    const provider = await this.#provider(`embedders.${name}`, name, spec);
    const model = provider.embeddingModel!(spec.model);
    // OpenAI's text-embedding-3 models (and servers copying them) shorten vectors on request.
    return spec.dimensions === undefined ? model : withDimensions(model, spec.provider === 'openai' ? 'openai' : name, spec.dimensions);
  }

  /** The provider package's provider for a hosted entry (at `key` in the config), with its key and base URL. */
  async #provider(key: string, name: string, spec: HostedSpec): Promise<ReturnType<ProviderFactory>> {
    const hosted = HOSTED[spec.provider];
    const keyEnv = spec.api_key_env ?? hosted.keyEnv;
    const apiKey = keyEnv === undefined ? undefined : this.#env[keyEnv];
    if (keyEnv !== undefined && !apiKey) {
      throw new ConfigError(messages.apiKeyEnvNotSet(key, keyEnv, spec.provider));
    }
    let create: ProviderFactory;
    try {
      create = ((await import(hosted.pkg)) as Record<string, ProviderFactory>)[hosted.factory]!;
    } catch (error) {
      throw new ConfigError(messages.providerPackageMissing(key, spec.provider, hosted.pkg, describeThrown(error)), { cause: error });
    }
    return create({
      ...(apiKey ? { apiKey } : {}),
      ...(spec.base_url !== undefined ? { baseURL: spec.base_url } : {}),
      // An OpenAI-compatible server is named after the model entry; JSON schemas go to it as such.
      ...(spec.provider === 'openai-compatible' ? { name, supportsStructuredOutputs: true, includeUsage: true } : {}),
    });
  }
}

/** `model`, asking its provider (options key `providerKey`) for vectors of `dimensions`. */
function withDimensions(model: EmbeddingModelV3, providerKey: string, dimensions: number): EmbeddingModelV3 {
  return {
    specificationVersion: 'v3',
    provider: model.provider,
    modelId: model.modelId,
    maxEmbeddingsPerCall: model.maxEmbeddingsPerCall,
    supportsParallelCalls: model.supportsParallelCalls,
    doEmbed: (options) => model.doEmbed({ ...options, providerOptions: { ...options.providerOptions, [providerKey]: { ...options.providerOptions?.[providerKey], dimensions } } }),
  };
}
