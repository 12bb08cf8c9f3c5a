import type { CommitProgress, CommittedContext, ContextSnapshot } from '../../framework/model/committed-context.js';
import type { ContextBackend } from '../../framework/ports/context-backend.js';

/**
 * Keeps each stream's context snapshot in process memory. Nothing survives the process; an app
 * given the same instance again resumes from the snapshots it holds.
 */
export class MemoryContextBackend implements ContextBackend {
  readonly #committed = new Map<string, CommittedContext>();

  load(streamId: string): CommittedContext | undefined {
    return this.#committed.get(streamId);
  }

  commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): void {
    const current = this.#committed.get(streamId);
    if (current === undefined || slice > current.slice) this.#committed.set(streamId, { slice, context: snapshot, ...progress });
  }

  async close(): Promise<void> {}
}
