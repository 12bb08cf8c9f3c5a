import { Redis } from 'ioredis';
import type { CommitProgress, CommittedContext, ContextBackend, ContextSnapshot } from '../../framework/ports.js';
import { conflictBackoff, decodeCommitted, encodeCommitted, MAX_CONFLICT_RETRIES } from '../shared/committed-snapshot.js';
import { StoredStateError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/** Options of `RedisContextBackend`. */
export interface RedisContextBackendOptions {
  /** Key prefix; a stream's context is at `<prefix>:ctx:<stream_id>`. Default `live-crew`. */
  prefix?: string;
}

/**
 * Keeps each stream's context in Redis, as one JSON document per stream written with an
 * optimistic transaction (WATCH / MULTI): a concurrent writer makes the transaction fail, and it
 * is retried against what that writer stored; a slice at or below the stored one is ignored.
 */
export class RedisContextBackend implements ContextBackend {
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #prefix: string;

  /**
   * @param redis - a client, or a `redis://` URL to connect to (that connection is closed by `close()`)
   */
  constructor(redis: Redis | string, options: RedisContextBackendOptions = {}) {
    this.#owned = typeof redis === 'string';
    this.#redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 3 }) : redis;
    this.#prefix = options.prefix ?? 'live-crew';
  }

  async load(streamId: string): Promise<CommittedContext | undefined> {
    const text = await this.#redis.get(this.#key(streamId));
    return text === null ? undefined : decodeCommitted(text, this.#key(streamId));
  }

  async commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): Promise<void> {
    const key = this.#key(streamId);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      await this.#redis.watch(key);
      const stored = await this.#redis.get(key);
      if (stored !== null && decodeCommitted(stored, key).slice >= slice) {
        await this.#redis.unwatch();
        return;
      }
      // null: another writer changed the key since WATCH; look again.
      if (
        (await this.#redis
          .multi()
          .set(key, encodeCommitted(slice, snapshot, progress))
          .exec()) !== null
      )
        return;
      await conflictBackoff(attempt);
    }
    throw new StoredStateError(messages.contextWriteConflicts(streamId, MAX_CONFLICT_RETRIES, `at ${key}`));
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#redis.quit().catch(() => undefined);
  }

  #key(streamId: string): string {
    return `${this.#prefix}:ctx:${streamId}`;
  }
}
