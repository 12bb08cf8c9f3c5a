import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ModelSpec } from '../../framework/config/model-config.js';
import { ConfigError } from '../../framework/errors.js';
import type { ModelProvider } from '../../framework/ports.js';
import { scriptedModel } from './scripted-model.js';

/** Each hosted provider: its package (an optional dependency, loaded only when configured), its factory, its key's default env var. */
const HOSTED = {
  openai: { pkg: '@ai-sdk/openai', factory: 'createOpenAI', keyEnv: 'OPENAI_API_KEY' },
  anthropic: { pkg: '@ai-sdk/anthropic', factory: 'createAnthropic', keyEnv: 'ANTHROPIC_API_KEY' },
  'openai-compatible': { pkg: '@ai-sdk/openai-compatible', factory: 'createOpenAICompatible', keyEnv: undefined },
} as const;

type ProviderFactory = (settings: Record<string, unknown>) => (modelId: string) => LanguageModelV3;

/**
 * The models of `models:` made with the AI SDK's provider packages (DESIGN §9). A provider's
 * package is imported when a model uses it, so a run without models, or with only `scripted`
 * ones, loads none. Every problem is found at `open()`, before anything runs: a package not
 * installed, a key not set.
 */
export class AiSdkModelProvider implements ModelProvider {
  readonly names: readonly string[];
  readonly #specs: Readonly<Record<string, ModelSpec>>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #models = new Map<string, LanguageModelV3>();

  constructor(specs: Readonly<Record<string, ModelSpec>>, env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#specs = specs;
    this.#env = env;
    this.names = Object.keys(specs);
  }

  async open(): Promise<void> {
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(this.#specs)) {
      try {
        this.#models.set(name, await this.#make(name, spec));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(`  ${error.message}`);
      }
    }
    if (problems.length > 0) throw new ConfigError(`invalid configuration in models:\n${problems.join('\n')}`);
  }

  languageModel(name: string): LanguageModelV3 | undefined {
    return this.#models.get(name);
  }

  async #make(name: string, spec: ModelSpec): Promise<LanguageModelV3> {
    if (spec.provider === 'scripted') {
      return scriptedModel(
        spec.replies.map(({ when, text }) => ({ text, ...(when !== undefined ? { when: new RegExp(when) } : {}) })),
        { ...(spec.model !== undefined ? { modelId: spec.model } : {}), ...(spec.latency_ms !== undefined ? { latencyMs: spec.latency_ms } : {}) },
      );
    }
    const hosted = HOSTED[spec.provider];
    const keyEnv = spec.api_key_env ?? hosted.keyEnv;
    const apiKey = keyEnv === undefined ? undefined : this.#env[keyEnv];
    if (keyEnv !== undefined && !apiKey) {
      throw new ConfigError(`models.${name}.api_key_env: the environment variable ${keyEnv} holding ${spec.provider}'s API key is not set (set it, or name another with api_key_env)`);
    }
    let create: ProviderFactory;
    try {
      create = ((await import(hosted.pkg)) as Record<string, ProviderFactory>)[hosted.factory]!;
    } catch (error) {
      throw new ConfigError(`models.${name}.provider: ${spec.provider} needs the package ${hosted.pkg}, which cannot be loaded (npm install ${hosted.pkg}): ${(error as Error).message}`, { cause: error });
    }
    const settings = {
      ...(apiKey ? { apiKey } : {}),
      ...(spec.base_url !== undefined ? { baseURL: spec.base_url } : {}),
      // An OpenAI-compatible server is named after the model entry; JSON schemas go to it as such.
      ...(spec.provider === 'openai-compatible' ? { name, supportsStructuredOutputs: true, includeUsage: true } : {}),
    };
    return create(settings)(spec.model);
  }
}
