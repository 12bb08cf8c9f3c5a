import type { InterceptorRef } from '../ports/interceptor.js';
import { INTERCEPTORS_METADATA } from './metadata-keys.js';
import { refuseStandardDecorator } from './experimental-only.js';

/**
 * Wraps a crew's handler calls in interceptors: on the class, every handler of the crew; on a
 * method, that handler only (inside the class's). Classes are constructed through DI.
 *
 * @example
 * ```ts
 * @Crew({ id: 'scorer' })
 * @UseInterceptors(AuditInterceptor)
 * export class Scorer { ... }
 * ```
 */
export function UseInterceptors(...interceptors: InterceptorRef[]): ClassDecorator & MethodDecorator {
  return (target: object, method?: string | symbol) => {
    refuseStandardDecorator('@UseInterceptors', method);
    const existing: readonly InterceptorRef[] = Reflect.getOwnMetadata(INTERCEPTORS_METADATA, target, method as string) ?? [];
    // Decorators apply bottom-up: the topmost one's interceptors go first (outermost).
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [...interceptors, ...existing], target, method as string);
  };
}
