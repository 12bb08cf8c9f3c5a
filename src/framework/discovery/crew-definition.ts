import type { ZodType } from 'zod';
import type { Dependency } from '../model/dependency.js';
import type { InterceptorRef } from '../ports/interceptor.js';
import type { ResolvedKnobs } from './crew-knobs.js';

/** A class that can be constructed by the DI container. */
export type CrewClass = abstract new (...args: never[]) => object;

/** The event kinds a handler listens to: a list, or every kind. */
export type HandlerTrigger = { readonly any: true } | { readonly any: false; readonly kinds: readonly string[] };

/** One `@OnEvent` method, checked. */
export interface HandlerDefinition {
  readonly method: string;
  readonly trigger: HandlerTrigger;
  readonly payload?: ZodType;
  /** The method's `@UseInterceptors`, in order: inside the class's. */
  readonly interceptors: readonly InterceptorRef[];
}

/** Everything the runtime needs to know about a crew, read from its decorators once at start. */
export interface CrewDefinition extends ResolvedKnobs {
  readonly id: string;
  readonly type: CrewClass;
  /** The class name, for messages. */
  readonly className: string;
  readonly handlers: readonly HandlerDefinition[];
  readonly dependencies: readonly Dependency[];
  /** The class's `@UseInterceptors`, in order: inside the app's, outside its methods'. */
  readonly interceptors: readonly InterceptorRef[];
}

/** Whether a crew runs in a worker thread or a child process. */
export function isIsolated(crew: CrewDefinition): boolean {
  return crew.isolation === 'worker' || crew.isolation === 'process';
}

/**
 * The crews of an app in run order: offset-0 dependencies first, ties broken by crew id. The
 * same order decides whose context write wins a merge (DESIGN §4).
 */
export interface CrewGraph {
  readonly crews: readonly CrewDefinition[];
}
