import type { DependencyContainer } from 'tsyringe';
import { reloadableKnobsOf } from '../discovery/crew-knobs.js';
import type { ProviderRegistration } from '../tokens.js';
import { LifecycleHooks } from './lifecycle-hooks.js';
import { Versions } from './versions.js';
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

/** How `constructCrews` constructs: which crews, around what, standing in for which. */
export interface CrewConstruction {
  readonly providers?: readonly ProviderRegistration[];
  /** Gives each crew its reloadable knobs by version (`run --watch`). */
  readonly reloadable?: boolean;
  readonly hosted?: (id: string) => boolean;
  /** Around every handler call, outermost first (the monitor's, the app's). */
  readonly interceptors?: readonly InterceptorRef[];
  /** What stands in for a crew constructed elsewhere (an isolated crew). */
  readonly standIn?: (definition: CrewDefinition) => object | undefined;
}

/**
 * Constructs the hosted crews of a graph through a container, each with its interceptors, and
 * the lifecycle hooks of them and of the providers' services: the step every process that runs
 * crews shares, a `CrewHost` and an isolate alike.
 *
 * @throws CrewDefinitionError (ConstructionError) for a crew or interceptor DI cannot construct
 */
export function constructCrews(container: DependencyContainer, graph: CrewGraph, options: CrewConstruction): { readonly crews: readonly CrewRuntime[]; readonly hooks: LifecycleHooks } {
  const hooks = new LifecycleHooks(container, options.providers ?? []);
  const instantiated = instantiateCrews(graph, container, options.hosted, options.interceptors, options.standIn);
  const crews = options.reloadable ? instantiated.map((crew) => ({ ...crew, knobs: new Versions(reloadableKnobsOf(crew.definition)) })) : instantiated;
  return { crews, hooks };
}
