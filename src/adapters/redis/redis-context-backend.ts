import { Redis } from 'ioredis';
import type { CommitProgress, CommittedContext, ContextSnapshot } from '../../framework/model/committed-context.js';
import type { ContextBackend } from '../../framework/ports/context-backend.js';
import { conflictBackoff, decodeCommitted, encodeCommitted, MAX_CONFLICT_RETRIES } from '../shared/committed-snapshot.js';
import { ConnectionError, StoredStateError } from '../../framework/errors.js';
import { describeThrown } from '../../framework/describe-thrown.js';
import { withoutPassword } from '../shared/shown-url.js';
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
  /** Where it connects, as messages show it. */
  readonly #where: string;

  /**
   * @param redis - a client, or a `redis://` URL to connect to (that connection is closed by `close()`)
   */
  constructor(redis: Redis | string, options: RedisContextBackendOptions = {}) {
    this.#owned = typeof redis === 'string';
    this.#redis = typeof redis === 'string' ? new Redis(redis, { lazyConnect: true, maxRetriesPerRequest: 3 }) : redis;
    this.#where = typeof redis === 'string' ? withoutPassword(redis) : `${redis.options.host ?? 'localhost'}:${redis.options.port ?? 6379}`;
    this.#prefix = options.prefix ?? 'live-crew';
    // A connection's failures reach the command that waits on it; kept here, they say why.
    if (this.#owned) this.#redis.on('error', (error: Error) => (this.#connectionError = error));
  }

  /** The last failure of the connection this backend made, for the message of a command it failed. */
  #connectionError: Error | undefined;

  async load(streamId: string): Promise<CommittedContext | undefined> {
    const key = this.#key(streamId);
    const text = await this.#reach(key, () => this.#redis.get(key));
    return text === null ? undefined : decodeCommitted(text, this.#shown(key));
  }

  async commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): Promise<void> {
    const key = this.#key(streamId);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      await this.#reach(key, () => this.#redis.watch(key));
      const stored = await this.#reach(key, () => this.#redis.get(key));
      if (stored !== null && decodeCommitted(stored, this.#shown(key)).slice >= slice) {
        await this.#reach(key, () => this.#redis.unwatch());
        return;
      }
      // null: another writer changed the key since WATCH; look again.
      const written = await this.#reach(key, () =>
        this.#redis
          .multi()
          .set(key, encodeCommitted(slice, snapshot, progress))
          .exec(),
      );
      if (written !== null) return;
      await conflictBackoff(attempt);
    }
    throw new StoredStateError(messages.contextWriteConflicts(streamId, MAX_CONFLICT_RETRIES, `at ${this.#shown(key)}`));
  }

  /** Runs a command on `key`. @throws ConnectionError naming the server and key when Redis cannot be reached (or refuses) */
  async #reach<T>(key: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      const why = this.#connectionError === undefined ? describeThrown(error) : `${describeThrown(this.#connectionError)} (${describeThrown(error)})`;
      throw new ConnectionError(messages.redisFailed(this.#where, key, why), { cause: error });
    }
  }

  /** A key as messages show it: with its server. */
  #shown(key: string): string {
    return `Redis ${this.#where} key ${key}`;
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#redis.quit().catch(() => undefined);
  }

  #key(streamId: string): string {
    return `${this.#prefix}:ctx:${streamId}`;
  }
}
