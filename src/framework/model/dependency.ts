import { z } from 'zod';
import { KindSchema } from './event.js';
import { CREW_ID_PATTERN } from './patterns.js';

/** A crew id: starts with a letter, then letters, digits, `_` or `-`, 64 at most. */
export const CrewIdSchema = z
  .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
  .regex(CREW_ID_PATTERN, { error: `must match ${CREW_ID_PATTERN.source}` });

const Offset = (fallback: number) =>
  z.number().int({ error: 'must be an integer' }).max(0, { error: 'must be 0 or negative (a slice offset looks back, never ahead)' }).default(fallback);

/**
 * A dependency of a crew, satisfied per slice (DESIGN §4):
 * - `{ type: 'crew', crew, offset }` when crew `crew` has finished slice `n + offset`;
 * - `{ type: 'event', event, offset }` when an event of kind `event` exists in slice `n + offset`.
 */
export type Dependency =
  | { readonly type: 'crew'; readonly crew: string; readonly offset: number }
  | { readonly type: 'event'; readonly event: string; readonly offset: number };

/** What `@DependsOn` accepts: `{ crew, offset? = -1 }` or `{ event, offset? = 0 }`. */
export type DependencyInput = { crew: string; offset?: number } | { event: string; offset?: number };

/** Validates a `DependencyInput` into a `Dependency`, applying the default offsets. */
export const DependencySchema = z.union(
  [
    z.strictObject({ crew: CrewIdSchema, offset: Offset(-1) }).transform((d) => ({ type: 'crew' as const, ...d })),
    z.strictObject({ event: KindSchema, offset: Offset(0) }).transform((d) => ({ type: 'event' as const, ...d })),
  ],
  { error: 'must be { crew: string, offset?: number } or { event: string, offset?: number }' },
);
