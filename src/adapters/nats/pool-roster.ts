import { KvWatchInclude, Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { parseForeignJson } from '../../framework/model/json.js';
import { STREAM_ID_PATTERN } from '../../framework/model/patterns.js';
import { untilStored } from './jetstream-publishing.js';

/** What a worker says of itself at each beat. */
export interface WorkerBeat {
  /** This process, as logs and the dashboard name it (`worker on host:4242`). */
  readonly name: string;
  /** Its beat is good until then (ms since the epoch): past it, the worker counts as gone. */
  readonly until: number;
  /** The streams it owns. */
  readonly streams: readonly string[];
}

const WorkerBeatSchema = z.object({ name: z.string().max(1000), until: z.number(), streams: z.array(z.string().regex(STREAM_ID_PATTERN)).max(100_000) });
/** A roster record nests two levels; past this it is none. */
const RECORD_MAX_DEPTH = 8;

/**
 * The pool's shared view (DESIGN §12), in the KV bucket `live_crew_pool`: `worker.<id>`, each
 * worker's beat (who it is, until when, which streams it owns), and `finished.<stream>`, the
 * streams whose input ended and whose every slice is committed. Every worker watches the bucket,
 * so each knows the live workers and the finished streams without asking; the per-stream lease
 * (the run bucket's `scheduler.lease`) stays what decides who owns a stream. A record that is
 * not one live-crew writes is ignored.
 */
export class PoolRoster {
  readonly #kv: KV;
  readonly #workers = new Map<string, WorkerBeat>();
  readonly #finished = new Set<string>();
  #watch: Awaited<ReturnType<KV['watch']>> | undefined;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Opens (creating if needed) the pool bucket and starts watching it; resolves once what it held is read. */
  static async open(nc: NatsConnection, prefix = 'live_crew'): Promise<PoolRoster> {
    const name = `${prefix}_pool`;
    const kv = await untilStored(() => new Kvm(nc).create(name, { history: 1 }), `opening KV bucket ${name}`);
    const roster = new PoolRoster(kv);
    await roster.#startWatching();
    return roster;
  }

  /** Workers whose beat is good at `now`. */
  liveWorkers(now: number): ReadonlyMap<string, WorkerBeat> {
    return new Map([...this.#workers].filter(([, beat]) => beat.until > now));
  }

  /** Whether a stream's input ended and every slice of it is committed. */
  isFinished(streamId: string): boolean {
    return this.#finished.has(streamId);
  }

  /** Stores a worker's beat. */
  async beat(id: string, beat: WorkerBeat): Promise<void> {
    await untilStored(() => this.#kv.put(`worker.${id}`, JSON.stringify(beat)), `writing worker.${id}`);
  }

  /** Takes a worker off the roster (it stopped): the others count it gone at once. */
  async leave(id: string): Promise<void> {
    await untilStored(() => this.#kv.delete(`worker.${id}`), `deleting worker.${id}`);
  }

  /** Marks a stream finished: no worker claims it again. */
  async finish(streamId: string, position: number): Promise<void> {
    this.#finished.add(streamId);
    await untilStored(() => this.#kv.put(`finished.${streamId}`, JSON.stringify({ position })), `writing finished.${streamId}`);
  }

  close(): void {
    this.#watch?.stop();
  }

  async #startWatching(): Promise<void> {
    // Updates from now on, then what is there already: a beat stored between the two is read
    // twice, and one missed would be stored again within a third of a lease.
    this.#watch = await this.#kv.watch({ include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const entry of this.#watch!) this.#apply(entry.key, entry.operation === 'PUT' ? entry.string() : undefined);
    })();
    const keys: string[] = [];
    for await (const key of await this.#kv.keys()) keys.push(key);
    await Promise.all(
      keys.map(async (key) => {
        const entry = await this.#kv.get(key);
        if (entry !== null) this.#apply(key, entry.operation === 'PUT' ? entry.string() : undefined);
      }),
    );
  }

  /** A record stored (`text`) or removed (undefined) under `key`. */
  #apply(key: string, text: string | undefined): void {
    const [kind, ...rest] = key.split('.');
    const id = rest.join('.');
    const removed = text === undefined;
    if (kind === 'finished' && STREAM_ID_PATTERN.test(id)) {
      if (removed) this.#finished.delete(id);
      else this.#finished.add(id);
      return;
    }
    if (kind !== 'worker') return;
    const json = removed ? undefined : parseForeignJson(text, RECORD_MAX_DEPTH);
    const parsed = json?.problem === undefined && json !== undefined ? WorkerBeatSchema.safeParse(json.value) : undefined;
    if (parsed?.success) this.#workers.set(id, parsed.data);
    else this.#workers.delete(id);
  }
}
