import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { connectNats } from './nats-connect.js';
import type { CommitProgress, CommittedContext, ContextSnapshot } from '../../framework/model/committed-context.js';
import type { ContextBackend } from '../../framework/ports/context-backend.js';
import { isRevisionConflict, untilStored } from './jetstream-publishing.js';
import { conflictBackoff, decodeCommitted, encodeCommitted, MAX_CONFLICT_RETRIES } from '../shared/committed-snapshot.js';
import { StoredStateError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/** Options of `JetStreamContextBackend`. */
export interface JetStreamContextBackendOptions {
  /** Bucket name prefix. Default `live_crew`. */
  prefix?: string;
}

/** The key of the snapshot document in a stream's bucket. */
const SNAPSHOT_KEY = 'snapshot';

/**
 * Keeps each stream's context in a JetStream KV bucket of its own (DESIGN §5). Bucket names may
 * not hold dots, and stream ids never do (`[a-zA-Z0-9_-]`): stream `m-42` lives in bucket
 * `live_crew_ctx_m-42`. The snapshot is one document under key `snapshot`, written with a
 * revision-checked update: a concurrent writer makes it fail, and it is retried against what
 * that writer stored; a slice at or below the stored one is ignored.
 */
export class JetStreamContextBackend implements ContextBackend {
  readonly #connection: Promise<{ readonly nc: NatsConnection; readonly kvm: Kvm }>;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #buckets = new Map<string, Promise<KV>>();
  /** What this backend last read or wrote per stream: the common case needs no read first. */
  readonly #known = new Map<string, { readonly revision: number; readonly slice: number }>();

  /**
   * @param nc - a connection, or how to connect on first use (that connection is drained by `close()`)
   */
  constructor(nc: NatsConnection | NodeConnectionOptions, options: JetStreamContextBackendOptions = {}) {
    this.#owned = !isConnection(nc);
    const connection = isConnection(nc) ? Promise.resolve(nc) : connectNats(nc);
    this.#connection = connection.then((c) => ({ nc: c, kvm: new Kvm(c) }));
    // A connection failure surfaces on first use; until then it must not go unhandled.
    this.#connection.catch(() => undefined);
    this.#prefix = options.prefix ?? 'live_crew';
  }

  /** The bucket holding a stream's context. */
  bucketName(streamId: string): string {
    return contextBucketName(streamId, this.#prefix);
  }

  async load(streamId: string): Promise<CommittedContext | undefined> {
    const kv = await this.#bucket(streamId);
    const entry = await untilStored(() => kv.get(SNAPSHOT_KEY), `reading ${this.bucketName(streamId)}`);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const committed = decodeCommitted(entry.string(), this.bucketName(streamId));
    this.#known.set(streamId, { revision: entry.revision, slice: committed.slice });
    return committed;
  }

  async commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): Promise<void> {
    const kv = await this.#bucket(streamId);
    const data = encodeCommitted(slice, snapshot, progress);
    let known = this.#known.get(streamId);
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      if (known !== undefined && known.slice >= slice) return;
      try {
        const write = () => (known === undefined ? kv.create(SNAPSHOT_KEY, data) : kv.update(SNAPSHOT_KEY, data, known.revision));
        const revision = await untilStored(write, `writing ${this.bucketName(streamId)}`);
        this.#known.set(streamId, { revision, slice });
        return;
      } catch (error) {
        if (!isRevisionConflict(error)) throw error;
        // Someone else wrote since: read what is there and decide again.
        await conflictBackoff(attempt);
        const entry = await untilStored(() => kv.get(SNAPSHOT_KEY), `reading ${this.bucketName(streamId)}`);
        known = entry === null || entry.operation !== 'PUT' ? undefined : { revision: entry.revision, slice: decodeCommitted(entry.string(), this.bucketName(streamId)).slice };
      }
    }
    throw new StoredStateError(messages.contextWriteConflicts(streamId, MAX_CONFLICT_RETRIES, `in bucket ${this.bucketName(streamId)}`));
  }

  async close(): Promise<void> {
    this.#buckets.clear();
    if (this.#owned) await (await this.#connection.catch(() => undefined))?.nc.drain();
  }

  #bucket(streamId: string): Promise<KV> {
    let bucket = this.#buckets.get(streamId);
    if (bucket === undefined) {
      bucket = this.#connection.then(({ kvm }) => untilStored(() => kvm.create(this.bucketName(streamId), { history: 1 }), `opening ${this.bucketName(streamId)}`));
      this.#buckets.set(streamId, bucket);
    }
    return bucket;
  }
}

function isConnection(value: NatsConnection | NodeConnectionOptions): value is NatsConnection {
  return typeof (value as NatsConnection).drain === 'function';
}

/**
 * A stream's committed context, read without creating anything (a viewer's first look): undefined
 * when its bucket or snapshot does not exist yet.
 */
export async function readCommittedContext(nc: NatsConnection, streamId: string, prefix = 'live_crew'): Promise<CommittedContext | undefined> {
  const bucket = contextBucketName(streamId, prefix);
  const entry = await new Kvm(nc)
    .open(bucket)
    .then((kv) => kv.get(SNAPSHOT_KEY))
    .catch(() => null);
  if (entry === null || entry.operation !== 'PUT') return undefined;
  return decodeCommitted(entry.string(), bucket);
}

/** The KV bucket holding a stream's context (DESIGN §5: `live_crew_ctx_<stream>`). */
function contextBucketName(streamId: string, prefix: string): string {
  return `${prefix}_ctx_${streamId}`;
}
