import type { output, ZodType } from 'zod';
import { refuseStandardDecorator } from './experimental-only.js';
import type { Event } from '../model/event.js';
import type { CrewContext } from '../ports/crew-context.js';
import { HANDLERS_METADATA } from './metadata-keys.js';

/** Options of `@OnEvent`. */
export interface OnEventOptions<S extends ZodType = ZodType> {
  /**
   * A zod schema the payload must pass before this handler sees it. The handler receives the
   * parsed value, typed as the schema's output. An event that fails it becomes an
   * `invalid_event` error for this crew only.
   */
  payload?: S;
}

/**
 * What an `@OnEvent` method must be: it takes the event (its payload typed by the decorator's
 * schema, if it has one) and the call's context, and may return a promise.
 */
export type EventHandler<P = unknown> = (event: Event<P>, ctx: CrewContext) => unknown;

/**
 * The decorator `@OnEvent` gives: a method whose parameters do not take what a handler gets (an
 * event whose payload does not match the schema's output, a context first) does not compile.
 */
export type OnEventDecorator<P> = <M extends EventHandler<P>>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void;

/** What `@OnEvent` records for one method. */
export interface HandlerMetadata {
  readonly method: string;
  readonly kinds: unknown;
  readonly payload?: ZodType;
}

/**
 * Calls the decorated method for each event of the given kind(s): a kind, a list of kinds, or
 * `'*'` for every kind. The method receives `(event, ctx: CrewContext)` and may return a promise.
 * With a `payload` schema, the event's payload is typed as the schema's output, and a method
 * declaring another payload type does not compile; without one, the method may declare any.
 *
 * @example
 * ```ts
 * @OnEvent('goal_scored', { payload: z.object({ team: z.enum(['home', 'away']) }) })
 * onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) { ctx.emit('cheer', event.payload); }
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: with no payload schema a handler may declare any payload type; nothing checks it at run time either.
export function OnEvent(kinds: string | readonly string[]): OnEventDecorator<any>;
export function OnEvent<S extends ZodType>(kinds: string | readonly string[], options: OnEventOptions<S>): OnEventDecorator<output<S>>;
export function OnEvent(kinds: string | readonly string[], options: OnEventOptions = {}): OnEventDecorator<unknown> {
  return (target, propertyKey) => {
    refuseStandardDecorator('@OnEvent', propertyKey);
    const owner = target.constructor;
    const existing: readonly HandlerMetadata[] = Reflect.getMetadata(HANDLERS_METADATA, owner) ?? [];
    const record: HandlerMetadata = { method: String(propertyKey), kinds, ...(options.payload ? { payload: options.payload } : {}) };
    Reflect.defineMetadata(HANDLERS_METADATA, [...existing, record], owner);
  };
}
