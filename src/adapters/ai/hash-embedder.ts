import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import { ConfigError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/** Options of `hashEmbedder`. */
export interface HashEmbedderOptions {
  /** The vector length (default 384). */
  readonly dimensions?: number;
}

/** A word counts this much, each of its character trigrams this much: shared words weigh most, spelling variants still meet. */
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;

/**
 * An embedding model with no network, no key and no weights (`provider: hash` in `embedders:`):
 * each text's lower-cased words and their character trigrams are hashed into `dimensions` signed
 * buckets and the vector is L2-normalised (feature hashing). It is deterministic, fast and the
 * same on every machine, so demos and tests run offline and a search finds what shares words
 * with its query. It knows no meaning ("goal" is not near "scored"): use a real embedding model
 * (`provider: openai`, or an Ollama server as `openai-compatible`) for semantic search.
 *
 * @example
 * ```ts
 * const t = await createTestingApp({ crews: [ClipFinder], embedders: { default: hashEmbedder({ dimensions: 64 }) } });
 * ```
 */
export function hashEmbedder(options: HashEmbedderOptions = {}): EmbeddingModelV3 {
  const dimensions = options.dimensions ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new ConfigError(messages.hashEmbedderDimensions(dimensions));
  return {
    specificationVersion: 'v3',
    provider: 'live-crew.hash',
    modelId: `hash-${dimensions}`,
    maxEmbeddingsPerCall: undefined,
    supportsParallelCalls: true,
    doEmbed: async ({ values }) => ({
      embeddings: values.map((text) => hashVector(text, dimensions)),
      usage: { tokens: values.reduce((sum, text) => sum + words(text).length, 0) },
      warnings: [],
    }),
  };
}

function hashVector(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    // The top bit signs the feature, so collisions cancel out on average instead of piling up.
    vector[hash % dimensions]! += hash & 0x8000_0000 ? -weight : weight;
  };
  for (const word of words(text)) {
    add(word, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`#${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** 32-bit FNV-1a over the UTF-16 code units: small, fast and well spread. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
