/**
 * Where each stream's merged context is kept between slices and across restarts.
 */
import type { CommitProgress, CommittedContext, ContextSnapshot } from '../model/committed-context.js';
import type { MaybePromise } from './maybe-promise.js';

/**
 * Keeps each stream's merged context. The core merges writes (DESIGN §4) and hands every new
 * snapshot to the backend; a backend that persists it lets a restarted process resume from it.
 * Every backend passes the same contract suite (`test/integration/context-backend-contract.ts`).
 */
export interface ContextBackend {
  /**
   * The last committed snapshot of a stream and its slice, read together, or undefined when it
   * has none. The slice tells a resuming process which slices are already merged.
   */
  load(streamId: string): MaybePromise<CommittedContext | undefined>;
  /**
   * Stores S(slice), the snapshot after merging slice `slice`, atomically. A commit of a slice at
   * or below the last committed one is ignored, so a re-run after a crash never rolls context
   * back; concurrent writers never interleave (a conflict is retried, no write is lost).
   */
  commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): MaybePromise<void>;
  close(): Promise<void>;
}
