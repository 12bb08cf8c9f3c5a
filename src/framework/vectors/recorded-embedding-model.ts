import type { EmbeddingModelV3, EmbeddingModelV3CallOptions, EmbeddingModelV3Result } from '@ai-sdk/provider';
import type { CallSite } from '../runtime/call-site.js';
import { recordEffect } from '../model-calls/recorded-effect.js';
import type { ModelCallServices } from '../model-calls/recorded-model.js';
import { digestValue } from '../model-calls/request-digest.js';

/**
 * An embedding model as one handler call sees it (`ctx.embedder()`, DESIGN §9-§10): each
 * `doEmbed` is a recorded effect of the call, so a replay, or a successor resuming the run, gets
 * the recorded vectors with no network, and a replay embedding other texts is a
 * `replay_divergence`. The call's signal ends the request.
 */
export function recordedEmbeddingModel(
  inner: EmbeddingModelV3,
  { name, identity }: { readonly name: string; readonly identity: string },
  scope: CallSite,
  services: ModelCallServices,
): EmbeddingModelV3 {
  return {
    specificationVersion: 'v3',
    provider: inner.provider,
    modelId: inner.modelId,
    maxEmbeddingsPerCall: inner.maxEmbeddingsPerCall,
    supportsParallelCalls: inner.supportsParallelCalls,
    doEmbed: (options: EmbeddingModelV3CallOptions) => {
      const request = digestValue({ model: identity, values: options.values, providerOptions: options.providerOptions });
      return recordEffect(
        services,
        scope,
        `embed:${name}`,
        async (): Promise<EmbeddingModelV3Result> => {
          const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, scope.signal]) : scope.signal;
          const { embeddings, usage, warnings } = await inner.doEmbed({ ...options, abortSignal: signal });
          // Headers and bodies are how it travelled, not what it answered: not journaled.
          return { embeddings, warnings, ...(usage ? { usage } : {}) };
        },
        request,
      );
    },
  };
}
