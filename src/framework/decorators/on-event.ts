import type { ZodType } from 'zod';
import { HANDLERS_METADATA } from './metadata-keys.js';

/** Options of `@OnEvent`. */
export interface OnEventOptions {
  /**
   * A zod schema the payload must pass before this handler sees it. The handler receives the
   * parsed value. An event that fails it becomes an `invalid_event` error for this crew only.
   */
  payload?: ZodType;
}

/** What `@OnEvent` records for one method. */
export interface HandlerMetadata {
  readonly method: string;
  readonly kinds: unknown;
  readonly payload?: ZodType;
}

/**
 * Calls the decorated method for each event of the given kind(s): a kind, a list of kinds, or
 * `'*'` for every kind. The method receives `(event, ctx: CrewContext)` and may return a promise.
 *
 * @example
 * ```ts
 * @OnEvent('goal_scored', { payload: z.object({ team: z.enum(['home', 'away']) }) })
 * onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) { ctx.emit('cheer', event.payload); }
 * ```
 */
export function OnEvent(kinds: string | readonly string[], options: OnEventOptions = {}): MethodDecorator {
  return (target, propertyKey) => {
    const owner = target.constructor;
    const existing: readonly HandlerMetadata[] = Reflect.getMetadata(HANDLERS_METADATA, owner) ?? [];
    const record: HandlerMetadata = { method: String(propertyKey), kinds, ...(options.payload ? { payload: options.payload } : {}) };
    Reflect.defineMetadata(HANDLERS_METADATA, [...existing, record], owner);
  };
}
