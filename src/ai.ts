/**
 * `live-crew/ai`: models and embedders through the Vercel AI SDK (an optional peer dependency),
 * and a deterministic hash embedder. `models:` and `embedders:` select the provider without this
 * import.
 */
export { AiSdkModelProvider } from './adapters/ai/ai-sdk-model-provider.js';
export { hashEmbedder, type HashEmbedderOptions } from './adapters/ai/hash-embedder.js';
