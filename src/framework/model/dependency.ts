import { z } from 'zod';
import { KindSchema } from './event.js';
import { CREW_ID_PATTERN } from './patterns.js';

/** A crew id: starts with a letter, then letters, digits, `_` or `-`, 64 at most. */
export const CrewIdSchema = z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).regex(CREW_ID_PATTERN, { error: `must match ${CREW_ID_PATTERN.source}` });

const Offset = (fallback: number) => z.number().int({ error: 'must be an integer' }).max(0, { error: 'must be 0 or negative (a slice offset looks back, never ahead)' }).default(fallback);

/**
 * A dependency of a crew, satisfied per slice (DESIGN §4):
 * - `{ type: 'crew', crew, offset }` when crew `crew` has finished slice `n + offset`;
 * - `{ type: 'event', event, offset }` when an event of kind `event` exists in slice `n + offset`.
 */
export type Dependency = { readonly type: 'crew'; readonly crew: string; readonly offset: number } | { readonly type: 'event'; readonly event: string; readonly offset: number };

/** What `@DependsOn` accepts: `{ crew, offset? = -1 }` or `{ event, offset? = 0 }`. */
export type DependencyInput = { crew: string; offset?: number } | { event: string; offset?: number };

/** A crew dependency: `{ crew, offset? = -1 }`. */
export const CrewDependencySchema = z.strictObject({ crew: CrewIdSchema, offset: Offset(-1) }).transform((d): Dependency => ({ type: 'crew', ...d }));
/** An event dependency: `{ event, offset? = 0 }`. */
export const EventDependencySchema = z.strictObject({ event: KindSchema, offset: Offset(0) }).transform((d): Dependency => ({ type: 'event', ...d }));
const SHAPE = 'must be { crew: string, offset?: number } or { event: string, offset?: number }';

/**
 * Parses one `@DependsOn` entry into a `Dependency`, applying the default offsets. The key present
 * (`crew` or `event`) picks the schema, so its messages reach the user unwrapped.
 */
export function parseDependency(input: unknown) {
  if (typeof input === 'object' && input !== null && 'crew' in input !== 'event' in input) {
    return ('crew' in input ? CrewDependencySchema : EventDependencySchema).safeParse(input, { reportInput: true });
  }
  return z.never({ error: SHAPE }).safeParse(input, { reportInput: true });
}

/**
 * Whether a crew dependency makes the dependent wait for that crew to finish slice n + offset
 * before it runs slice n: at offset 0 (it runs first), or on a crew lagging `lag` slices, whose
 * slice n + offset is not merged yet when slice n runs (`offset > -(lag + 1)`).
 */
export function waitsOn(dep: { readonly offset: number }, lag: number): boolean {
  return dep.offset > -(lag + 1);
}
