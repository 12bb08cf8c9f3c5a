import type { CommitProgress, CommittedContext, ContextSnapshot, LaggingWrites } from '../../framework/ports.js';
import { StoredStateError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/**
 * How a persistent context backend stores a stream's context (`CommittedContext`): the whole
 * snapshot and the slice it is the state after, as one JSON document, written in one atomic step. A snapshot is capped
 * at `context_max_bytes`, so one document stays small, and no crash can leave half a slice.
 */
/** The document's text. */
export function encodeCommitted(slice: number, context: ContextSnapshot, progress?: CommitProgress): string {
  return JSON.stringify({ slice, context, ...progress });
}

/** The document of a stored text; throws on a text no backend wrote. */
export function decodeCommitted(text: string, where: string): CommittedContext {
  const value = JSON.parse(text) as Partial<CommittedContext>;
  if (typeof value?.slice !== 'number' || typeof value.context !== 'object' || value.context === null) {
    throw new StoredStateError(messages.notAContextSnapshot(where));
  }
  const progress = typeof value.epoch0 === 'number' && typeof value.position === 'number' ? { epoch0: value.epoch0, position: value.position } : {};
  if (value.lagging !== undefined && !isLaggingWrites(value.lagging)) throw new StoredStateError(messages.laggingWritesNotOurs(where));
  return { slice: value.slice, context: value.context, ...progress, ...(value.lagging !== undefined ? { lagging: value.lagging } : {}) };
}

function isLaggingWrites(value: unknown): value is LaggingWrites {
  return (
    Array.isArray(value) &&
    value.every(
      (entry: { crew?: unknown; slice?: unknown; writes?: unknown }) =>
        typeof entry?.crew === 'string' &&
        typeof entry.slice === 'number' &&
        Array.isArray(entry.writes) &&
        entry.writes.every((write: unknown) => Array.isArray(write) && typeof write[0] === 'string'),
    )
  );
}

/** How many times a revision-checked write is retried after a conflict before giving up. */
export const MAX_CONFLICT_RETRIES = 20;

/**
 * Waits before retry `attempt` (0-based) after a conflict: a random part of an exponentially
 * growing window (1, 2, 4 … 64 ms), so writers that keep colliding spread apart instead of
 * colliding again in lockstep.
 */
export function conflictBackoff(attempt: number): Promise<void> {
  const windowMs = 2 ** Math.min(attempt, 6);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * windowMs));
}
