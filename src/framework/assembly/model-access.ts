import type { DependencyContainer } from 'tsyringe';
import type { LiveCrewConfig } from '../config/config-schema.js';
import { DEFAULT_MODEL_RETRIES } from '../config/model-config.js';
import { VectorConfigSchema } from '../config/vector-config.js';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { ConfigError } from '../errors.js';
import { messages } from '../messages.js';
import { unmetCrewNeeds } from '../model-calls/crew-needs.js';
import { ModelCalls, replayedModels, unknownCrewModels, unknownVectorEmbedders, withModels, type GivenModels } from '../model-calls/model-calls.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { Logger } from '../ports/logger.js';
import type { RunObserver } from '../ports/run-observer.js';
import { MODEL_PROVIDER, VECTOR_STORE } from '../tokens.js';

/**
 * The model calls of a process that runs crews: the container's `MODEL_PROVIDER` (the config's
 * `models:` and `embedders:`) with the `given` models winning, opened, and checked against the
 * crews' `model`, `vector:`'s embedders and what YAML crews declare they need; and, with
 * `vector:` (or a `VECTOR_STORE` provider), the vector store, opened.
 *
 * @throws ConfigError for a model that cannot be made (a key not set, a package missing), a crew or `vector:` naming a model not configured, a vector store that cannot be opened
 */
export async function openModelCalls(
  container: DependencyContainer,
  config: LiveCrewConfig,
  graph: CrewGraph,
  services: { given?: GivenModels | undefined; journal: DecisionJournal; clock: Clock; observer?: RunObserver; logger?: Logger },
): Promise<ModelCalls> {
  const given = withModels(container.resolve(MODEL_PROVIDER), services.given ?? {});
  // A replay that takes every answer from its journal makes no model, opens no store and applies no write.
  const replayOnly = services.journal.replaying && config.replay_missing === 'fail';
  const provider = replayOnly ? replayedModels(given) : given;
  await provider.open();
  const vector = config.vector ?? (container.isRegistered(VECTOR_STORE, true) ? VectorConfigSchema.parse({ backend: 'memory' }) : null);
  const unknown = [...unknownCrewModels(graph, provider), ...unknownVectorEmbedders(config.vector, provider), ...unmetCrewNeeds(graph, vector, provider)];
  if (unknown.length > 0) throw new ConfigError(messages.configInvalid('the crews', unknown.map((problem) => `  ${problem}`).join('\n')));
  const specs = config.models;
  const models = new ModelCalls({
    provider,
    journal: services.journal,
    clock: services.clock,
    replayMissing: config.replay_missing,
    maxRetries: (name) => specs[name]?.max_retries ?? DEFAULT_MODEL_RETRIES,
    ...(vector !== null
      ? {
          vectors: {
            store: replayOnly ? undefined : container.resolve(VECTOR_STORE),
            config: vector,
            limits: { payloadMaxBytes: config.payload_max_bytes, payloadMaxDepth: config.payload_max_depth },
          },
        }
      : {}),
    ...(services.observer ? { observer: services.observer } : {}),
    ...(services.logger ? { logger: services.logger } : {}),
  });
  await models.vectorCalls?.open();
  return models;
}
