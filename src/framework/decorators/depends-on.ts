import type { DependencyInput } from '../model/dependency.js';
import { refuseStandardDecorator } from './experimental-only.js';
import { DEPENDENCIES_METADATA } from './metadata-keys.js';

/**
 * Declares what a crew needs before it runs a slice n:
 * - `{ crew: 'x', offset: -1 }` (the default offset): crew x has finished slice n-1;
 * - `{ crew: 'x', offset: 0 }`: x runs before this crew inside the same slice;
 * - `{ event: 'kick_off', offset: 0 }`: an event of that kind exists in slice n + offset.
 *
 * Unknown crews and cycles of offset-0 crew dependencies are rejected when the app starts.
 *
 * @example
 * ```ts
 * @Crew({ id: 'commentator' })
 * @DependsOn({ crew: 'score_tracker', offset: -1 })
 * export class Commentator { ... }
 * ```
 */
export function DependsOn(...dependencies: DependencyInput[]): ClassDecorator {
  return (target, ...standard: unknown[]) => {
    refuseStandardDecorator('@DependsOn', standard[0]);
    const existing: readonly unknown[] = Reflect.getMetadata(DEPENDENCIES_METADATA, target) ?? [];
    Reflect.defineMetadata(DEPENDENCIES_METADATA, [...existing, ...dependencies], target);
  };
}
