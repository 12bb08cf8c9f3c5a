import type { DependencyContainer } from 'tsyringe';
import type { CrewDefinition, CrewGraph } from '../discovery/crew-definition.js';
import { ConstructionError, CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import { constructorCycle, explainConstructionFailure } from '../discovery/construction-failure.js';
import { isThrownInstance } from '../describe-thrown.js';
import type { CrewRuntime } from './route-table.js';
import type { Interceptor, InterceptorClass, InterceptorRef } from '../ports/interceptor.js';

/**
 * Constructs the crews of the graph through the container, in run order: all of them, or those
 * `hosted` picks (a distributed runner); each keeps its run-order index. A crew `standIn` gives
 * an object for (an isolated crew) is not constructed here: the object stands in for it, inside
 * the app's interceptors only (its own run where it is constructed).
 *
 * @throws CrewDefinitionError when a constructor parameter cannot be resolved, or a constructor throws
 */
export function instantiateCrews(
  graph: CrewGraph,
  container: DependencyContainer,
  hosted: (id: string) => boolean = () => true,
  appInterceptors: readonly InterceptorRef[] = [],
  standIn: (definition: CrewDefinition) => object | undefined = () => undefined,
): CrewRuntime[] {
  const resolve = interceptorResolver(container);
  return graph.crews.flatMap((definition, index) => {
    if (!hosted(definition.id)) return [];
    const stand = standIn(definition);
    if (stand !== undefined) {
      const around = appInterceptors.map((ref) => resolve(ref, definition.id));
      return [{ definition, index, instance: stand, interceptors: new Map(definition.handlers.map(({ method }) => [method, around])) }];
    }
    const type = definition.type as unknown as new (...args: unknown[]) => object;
    const cycle = constructorCycle(type, container);
    if (cycle !== undefined) throw new ConstructionError(messages.unresolvableCrew(definition.id, definition.className, cycle), cycle);
    let instance: object;
    try {
      instance = container.resolve(type);
    } catch (error) {
      const failure = explainConstructionFailure(type, container);
      throw new ConstructionError(messages.unresolvableCrew(definition.id, definition.className, failure), failure, { cause: error });
    }
    const interceptors = new Map<string, readonly Interceptor[]>();
    const around = [...appInterceptors, ...definition.interceptors];
    for (const { method, interceptors: declared } of definition.handlers) {
      const refs = [...around, ...declared];
      interceptors.set(
        method,
        refs.map((ref) => resolve(ref, definition.id)),
      );
    }
    return [{ definition, index, instance, interceptors }];
  });
}

/** Resolves interceptor classes through the container, one instance per class for the app. */
function interceptorResolver(container: DependencyContainer): (ref: InterceptorRef, crew: string) => Interceptor {
  const instances = new Map<InterceptorClass, Interceptor>();
  return (ref, crew) => {
    if (typeof ref !== 'function') return checked(ref, crew, 'an object');
    let instance = instances.get(ref);
    if (instance === undefined) {
      try {
        instance = checked(container.resolve(ref as unknown as new () => Interceptor), crew, ref.name);
      } catch (error) {
        if (isThrownInstance(error, CrewDefinitionError)) throw error;
        const failure = explainConstructionFailure(ref as never, container);
        throw new ConstructionError(messages.unresolvableInterceptor(crew, ref.name, failure), failure, { cause: error });
      }
      instances.set(ref, instance);
    }
    return instance;
  };
}

function checked(candidate: unknown, crew: string, name: string): Interceptor {
  if (typeof (candidate as Interceptor | undefined)?.intercept !== 'function') throw new CrewDefinitionError(messages.notAnInterceptor(crew, name));
  return candidate as Interceptor;
}
