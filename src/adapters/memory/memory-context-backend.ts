import type { ContextBackend, ContextSnapshot } from '../../framework/ports.js';

/**
 * Keeps each stream's context snapshot in process memory. Nothing survives the process; an app
 * given the same instance again resumes from the snapshots it holds.
 */
export class MemoryContextBackend implements ContextBackend {
  readonly #snapshots = new Map<string, ContextSnapshot>();

  load(streamId: string): ContextSnapshot | undefined {
    return this.#snapshots.get(streamId);
  }

  commit(streamId: string, _slice: number, snapshot: ContextSnapshot): void {
    this.#snapshots.set(streamId, snapshot);
  }

  async close(): Promise<void> {}
}
