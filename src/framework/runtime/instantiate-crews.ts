import type { DependencyContainer } from 'tsyringe';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import type { CrewRuntime } from './route-table.js';

/**
 * Constructs the crews of the graph through the container, in run order: all of them, or those
 * `hosted` picks (a distributed runner); each keeps its run-order index.
 *
 * @throws CrewDefinitionError when a constructor parameter cannot be resolved, or when the class
 *   was compiled without decorator metadata (tsx, esbuild), which would otherwise fail obscurely.
 */
export function instantiateCrews(graph: CrewGraph, container: DependencyContainer, hosted: (id: string) => boolean = () => true): CrewRuntime[] {
  return graph.crews.flatMap((definition, index) => {
    if (!hosted(definition.id)) return [];
    const type = definition.type as unknown as new (...args: unknown[]) => object;
    if (type.length > 0 && Reflect.getMetadata('design:paramtypes', type) === undefined) {
      throw new CrewDefinitionError(messages.missingParamTypes(definition.className, type.length));
    }
    let instance: object;
    try {
      instance = container.resolve(type);
    } catch (error) {
      const detail = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
      throw new CrewDefinitionError(messages.unresolvableCrew(definition.id, definition.className, detail), { cause: error });
    }
    return [{ definition, index, instance, consecutiveErrors: 0, disabled: false }];
  });
}
