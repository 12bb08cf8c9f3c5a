import type { ContextBackend, ContextSnapshot } from '../../framework/ports.js';

/**
 * Keeps each stream's context snapshot in process memory. Nothing survives the process; an app
 * given the same instance again resumes from the snapshots it holds.
 */
export class MemoryContextBackend implements ContextBackend {
  readonly #committed = new Map<string, { readonly slice: number; readonly snapshot: ContextSnapshot }>();

  load(streamId: string): ContextSnapshot | undefined {
    return this.#committed.get(streamId)?.snapshot;
  }

  commit(streamId: string, slice: number, snapshot: ContextSnapshot): void {
    const current = this.#committed.get(streamId);
    if (current === undefined || slice > current.slice) this.#committed.set(streamId, { slice, snapshot });
  }

  async close(): Promise<void> {}
}
