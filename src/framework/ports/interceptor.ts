/**
 * Code around handler calls (DESIGN §6): the contract an interceptor implements.
 */
import type { Event } from '../model/event.js';
import type { CrewContext } from './crew-context.js';
import type { MaybePromise } from './maybe-promise.js';

/** A handler call as an interceptor sees it. */
export interface HandlerCall {
  /** The crew's id. */
  readonly crew: string;
  /** The handler's method name. */
  readonly handler: string;
  readonly event: Event;
  /** The call's context: what the handler gets (an interceptor may emit or read through it). */
  readonly ctx: CrewContext;
}

/** Runs the rest of the chain: the next interceptor, or the handler. Resolves to what it returned. */
export type CallNext = () => MaybePromise<unknown>;

/**
 * Code around handler calls (DESIGN §6), as NestJS interceptors: it may run code before and
 * after `next()`, time it, catch what it throws, or not call it at all (short-circuit: the call
 * then succeeds without running the handler). What it throws fails the call like a handler error.
 *
 * Order: the app's interceptors (`createLiveCrewApp({ interceptors })`) outermost, in the order
 * given; then the crew's `@UseInterceptors` on the class; then those on the method; then the
 * handler. Interceptor classes are resolved through the app's DI container, once per app.
 *
 * @example
 * ```ts
 * @injectable()
 * class Timing implements Interceptor {
 *   async intercept(call: HandlerCall, next: CallNext) {
 *     const started = performance.now();
 *     try { return await next(); } finally { log(call.crew, performance.now() - started); }
 *   }
 * }
 * ```
 */
export interface Interceptor {
  intercept(call: HandlerCall, next: CallNext): MaybePromise<unknown>;
  /**
   * Set when it only watches: it always calls `next()` once, changes nothing of the call, and
   * neither emits nor writes. An isolated crew whose calls pass only such interceptors in the app
   * gets a lane's waiting calls sent to its isolate together (DESIGN §8), ahead of their turn.
   */
  readonly observesOnly?: boolean;
}

/** An interceptor class, constructed through DI. */
export type InterceptorClass = new (...args: never[]) => Interceptor;

/** An interceptor, as a class to construct through DI or an instance. */
export type InterceptorRef = InterceptorClass | Interceptor;
