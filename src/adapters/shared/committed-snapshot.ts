import type { CommitProgress, CommittedContext, ContextSnapshot, LaggingWrites } from '../../framework/model/committed-context.js';
import { StoredStateError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { contextKeyProblem, DEFAULT_MAX_DEPTH } from '../../framework/model/frozen-json.js';
import { parseForeignJson } from '../../framework/model/json.js';

/**
 * How a persistent context backend stores a stream's context (`CommittedContext`): the whole
 * snapshot and the slice it is the state after, as one JSON document, written in one atomic step. A snapshot is capped
 * at `context_max_bytes`, so one document stays small, and no crash can leave half a slice.
 */
/** The document's text. */
export function encodeCommitted(slice: number, context: ContextSnapshot, progress?: CommitProgress): string {
  return JSON.stringify({ slice, context, ...progress });
}

/** How deep a stored document may nest: the document, its context, and values nested within the bounds crews keep to, twice over. */
const DOCUMENT_MAX_DEPTH = 4 + 2 * DEFAULT_MAX_DEPTH;

/**
 * The document of a stored text, deeply frozen.
 *
 * @throws StoredStateError naming `where` (the key or bucket) and what is wrong, for a text no backend wrote
 */
export function decodeCommitted(text: string, where: string): CommittedContext {
  const json = parseForeignJson(text, DOCUMENT_MAX_DEPTH);
  if (json.problem !== undefined) throw new StoredStateError(messages.notAContextSnapshot(where, json.problem));
  const value = json.value as Partial<CommittedContext> | null;
  if (typeof value?.slice !== 'number' || typeof value.context !== 'object' || value.context === null || Array.isArray(value.context)) {
    throw new StoredStateError(messages.notAContextSnapshot(where, 'it has no slice number and context object'));
  }
  // A key that reaches a prototype would change the snapshot object itself when merged.
  for (const key of Object.keys(value.context)) {
    const problem = contextKeyProblem(key);
    if (problem !== undefined) throw new StoredStateError(messages.notAContextSnapshot(where, problem));
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
