import type { CrewClass, CrewGraph } from '../discovery/crew-definition.js';
import type { VectorConfig } from '../config/vector-config.js';
import { messages } from '../messages.js';
import type { ModelProvider } from '../ports/model-provider.js';
import { implicitModelName } from './model-calls.js';

/**
 * What a crew is known, before it runs, to need of the configuration. A YAML crew declares it
 * (its file says whether it asks a model and which tools it offers); a TypeScript crew's needs
 * show only when it calls `ctx.model()` or `ctx.vectors()`.
 */
export interface CrewNeeds {
  /** It asks a model on every event: its `model`, else the default one. */
  readonly model: boolean;
  /** The collections it searches or fills by text: each needs `vector:` and an embedder. */
  readonly textCollections: readonly string[];
}

const declared = new WeakMap<CrewClass, CrewNeeds>();

/** Says what crew class `type` needs, for `unmetCrewNeeds`. */
export function declareCrewNeeds(type: CrewClass, needs: CrewNeeds): void {
  declared.set(type, needs);
}

/**
 * What the configuration lacks for the crews' declared needs, one line per crew and need: a model
 * crew with no model to call, a crew searching by text with `vector:` off or no embedder for the
 * collection. `validate` prints them and a run refuses to start on them, rather than every call
 * of the crew failing.
 */
export function unmetCrewNeeds(graph: CrewGraph, vector: VectorConfig | null, provider: Pick<ModelProvider, 'names' | 'embedderNames'>): string[] {
  return graph.crews.flatMap((crew) => {
    const needs = declared.get(crew.type);
    if (needs === undefined) return [];
    const problems: string[] = [];
    if (needs.model && crew.model === undefined && implicitModelName(provider.names) === undefined) problems.push(messages.crewNeedsModel(crew.id, provider.names));
    for (const collection of needs.textCollections) {
      if (vector === null) problems.push(messages.crewNeedsVectors(crew.id, collection));
      else if ((vector.collections?.[collection]?.embedder ?? vector.embedder ?? implicitModelName(provider.embedderNames)) === undefined) {
        problems.push(messages.crewNeedsEmbedder(crew.id, collection, provider.embedderNames));
      }
    }
    return problems;
  });
}
