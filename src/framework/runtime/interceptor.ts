import type { Event } from '../model/event.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { CrewContext } from '../ports/crew-context.js';
import type { HandlerCall, Interceptor } from '../ports/interceptor.js';

/** One handler call's chain: each interceptor in order around `handler`. */
export function intercepted(
  interceptors: readonly Interceptor[],
  handler: (event: unknown, ctx: unknown) => unknown,
  names: { readonly crew: string; readonly handler: string },
): (event: unknown, ctx: unknown) => unknown {
  if (interceptors.length === 0) return handler;
  return (event, ctx) => {
    // Fields spelled out: a spread here costs more than the handler of a light crew.
    const call: HandlerCall = { crew: names.crew, handler: names.handler, event: event as Event, ctx: ctx as CrewContext };
    const next = (i: number): MaybePromise<unknown> => (i === interceptors.length ? (handler(event, ctx) as MaybePromise<unknown>) : interceptors[i]!.intercept(call, () => next(i + 1)));
    return next(0);
  };
}
