import { z } from 'zod';
import { regexPattern } from './regex-pattern.js';
import { MODEL_NAME_PATTERN } from '../discovery/crew-knobs.js';

const modelId = z.string({ error: "must be the provider's model id (gpt-4o-mini, claude-sonnet-4-5, llama3.2)" }).min(1, { error: 'must not be empty' });
const envName = z.string({ error: 'must be the name of an environment variable' }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be the name of an environment variable (letters, digits, _)' });
const baseUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (the API root, e.g. http://127.0.0.1:11434/v1)' });
const maxRetries = z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).max(10, { error: 'must be at most 10' });

/** What every provider of a hosted model takes: the model id, where its key is, where it is served. */
const hosted = {
  model: modelId,
  /** The env var holding the API key; each provider has a default (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`). */
  api_key_env: envName.optional(),
  base_url: baseUrl.optional(),
  /** Retries of a 429 or 5xx, with backoff (default 2). */
  max_retries: maxRetries.optional(),
};

/** A rule of a scripted model: the first whose `when` (a regular expression) matches the prompt's last user text gives the reply. */
const ScriptedReply = z.strictObject({
  when: regexPattern('matched against the prompt').optional(),
  text: z.string({ error: 'must be the reply text' }),
});

/**
 * One entry of `models:` (DESIGN §9), by provider. `scripted` is live-crew's offline model for
 * demos and tests: it answers from its `replies`, with no network and no key.
 */
export const ModelSpecSchema = z.discriminatedUnion(
  'provider',
  [
    z.strictObject({ provider: z.literal('openai'), ...hosted }),
    z.strictObject({ provider: z.literal('anthropic'), ...hosted }),
    z.strictObject({ provider: z.literal('openai-compatible'), ...hosted, base_url: baseUrl }),
    z.strictObject({
      provider: z.literal('scripted'),
      model: modelId.optional(),
      replies: z.array(ScriptedReply).min(1, { error: 'must hold at least one reply' }),
      /** Simulated latency of each answer, in ms (default 0). */
      latency_ms: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).max(600_000, { error: 'must be at most 600000' }).optional(),
      max_retries: maxRetries.optional(),
    }),
  ],
  { error: "must name a provider: 'openai', 'anthropic', 'openai-compatible' (Ollama, vLLM, LM Studio) or 'scripted'" },
);

/** One configured model. */
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

/** A model's name in `models:` or `embedders:`. */
const modelName = z.string().regex(MODEL_NAME_PATTERN, { error: 'a model name is a letter, then letters, digits, _ or - (64 at most)' });

/** `models:`: each model by the name crews use. */
export const ModelsSchema = z.record(modelName, ModelSpecSchema, { error: 'must map model names to { provider, model, ... }' });

/** The length of the vectors an embedding model gives. */
const dimensions = z.number({ error: 'must be a number (the vector length)' }).int({ error: 'must be an integer' }).min(1, { error: 'must be >= 1' }).max(16_000, { error: 'must be at most 16000' });

/**
 * One entry of `embedders:` (DESIGN §10), by provider, as `models:` takes them. `hash` is
 * live-crew's offline embedder for demos and tests: deterministic, no network, no key; texts
 * sharing words come out near, but it knows no meaning (see `hashEmbedder`).
 */
export const EmbedderSpecSchema = z.discriminatedUnion(
  'provider',
  [
    z.strictObject({ provider: z.literal('openai'), ...hosted, dimensions: dimensions.optional() }),
    z.strictObject({ provider: z.literal('openai-compatible'), ...hosted, base_url: baseUrl, dimensions: dimensions.optional() }),
    z.strictObject({ provider: z.literal('hash'), dimensions }),
  ],
  { error: "must name a provider: 'openai' (text-embedding-3-small), 'openai-compatible' (Ollama, vLLM, LM Studio) or 'hash' (offline, deterministic)" },
);

/** One configured embedding model. */
export type EmbedderSpec = z.infer<typeof EmbedderSpecSchema>;

/** `embedders:`: each embedding model by the name crews and `vector.embedder` use. */
export const EmbeddersSchema = z.record(modelName, EmbedderSpecSchema, { error: 'must map embedder names to { provider, model, ... }' });

/** Retries of a model's 429s and 5xx when its entry sets none. */
export const DEFAULT_MODEL_RETRIES = 2;
