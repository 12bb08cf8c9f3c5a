import { KvWatchInclude, Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { parseForeignJson } from '../../framework/model/json.js';
import { STREAM_ID_PATTERN } from '../../framework/model/patterns.js';
import { untilStored } from './jetstream-publishing.js';

/** What a pool member (a worker, a runner of a group) says of itself at each beat. */
export interface MemberBeat {
  /** This process, as logs and the dashboard name it (`worker on host:4242`). */
  readonly name: string;
  /** Its beat is good until then (ms since the epoch): past it, the worker counts as gone. */
  readonly until: number;
  /** The streams it owns. */
  readonly streams: readonly string[];
}

const IdleSchema = z.object({ events: z.number().int().min(0) });
const FinishedSchema = z.object({ position: z.number().int().min(0) });
const MemberBeatSchema = z.object({ name: z.string().max(1000), until: z.number(), streams: z.array(z.string().regex(STREAM_ID_PATTERN)).max(100_000) });
/** The kind of pool member: workers own streams; a runner group's runners serve its crews for the streams they own. */
export type MemberKind = 'worker' | `runner.${string}`;
/** A roster record nests two levels; past this it is none. */
const RECORD_MAX_DEPTH = 8;

/**
 * The pool's shared view (DESIGN §12), in the KV bucket `live_crew_pool`: `worker.<id>`, each
 * worker's beat (who it is, until when, which streams it owns), and `runner.<group>.<id>`, each
 * group runner's; `finished.<stream>`, the
 * streams whose input ended and whose every slice is committed; and `idle.<stream>`, streams
 * released after `stream_idle_ms` without an event, with how many events they had then (one
 * with more is active again). Every worker watches the bucket,
 * so each knows the live workers and the finished streams without asking; the per-stream lease
 * (the run bucket's `scheduler.lease`) stays what decides who owns a stream. A record that is
 * not one live-crew writes is ignored.
 */
export class PoolRoster {
  readonly #kv: KV;
  /** Beats by key (`worker.<id>`, `runner.<group>.<id>`), with the kind and id the key names. */
  readonly #members = new Map<string, { readonly kind: MemberKind; readonly id: string; readonly beat: MemberBeat }>();
  readonly #finished = new Set<string>();
  readonly #idle = new Map<string, number>();
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

  /** Members of a kind whose beat is good at `now`, by id. */
  liveMembers(kind: MemberKind, now: number): ReadonlyMap<string, MemberBeat> {
    return new Map([...this.#members.values()].flatMap((member) => (member.kind === kind && member.beat.until > now ? [[member.id, member.beat] as const] : [])));
  }

  /** The runner groups with a live runner at `now`. */
  liveGroups(now: number): string[] {
    return [...new Set([...this.#members.values()].flatMap(({ kind, beat }) => (kind !== 'worker' && beat.until > now ? [kind.slice('runner.'.length)] : [])))];
  }

  /** Whether a stream's input ended and every slice of it is committed. */
  isFinished(streamId: string): boolean {
    return this.#finished.has(streamId);
  }

  /** Whether a stream was released idle and has had no event since (it holds `events` events, as it did then). */
  isIdle(streamId: string, events: number): boolean {
    return this.#idle.get(streamId) === events;
  }

  /** Marks a stream released idle with `events` events: nobody claims it until it has more. */
  async release(streamId: string, events: number): Promise<void> {
    this.#idle.set(streamId, events);
    await untilStored(() => this.#kv.put(`idle.${streamId}`, JSON.stringify({ events })), `writing idle.${streamId}`);
  }

  /** Stores a member's beat. */
  async beat(kind: MemberKind, id: string, beat: MemberBeat): Promise<void> {
    await untilStored(() => this.#kv.put(`${kind}.${id}`, JSON.stringify(beat)), `writing ${kind}.${id}`);
  }

  /** Takes a member off the roster (it stopped): the others count it gone at once. */
  async leave(kind: MemberKind, id: string): Promise<void> {
    await untilStored(() => this.#kv.delete(`${kind}.${id}`), `deleting ${kind}.${id}`);
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
    if (kind === 'finished' && STREAM_ID_PATTERN.test(id)) {
      if (parsed(text, FinishedSchema) === undefined) this.#finished.delete(id);
      else this.#finished.add(id);
      return;
    }
    if (kind === 'idle' && STREAM_ID_PATTERN.test(id)) {
      const idle = parsed(text, IdleSchema);
      if (idle === undefined) this.#idle.delete(id);
      else this.#idle.set(id, idle.events);
      return;
    }
    const member = memberOfKey(key);
    if (member === undefined) return;
    const beat = parsed(text, MemberBeatSchema);
    if (beat === undefined) this.#members.delete(key);
    else this.#members.set(key, { ...member, beat });
  }
}

/** The member a beat's key names (`worker.<id>`, `runner.<group>.<id>`); undefined for any other key. */
function memberOfKey(key: string): { readonly kind: MemberKind; readonly id: string } | undefined {
  const parts = key.split('.');
  if (parts[0] === 'worker' && parts.length === 2) return { kind: 'worker', id: parts[1]! };
  if (parts[0] === 'runner' && parts.length === 3) return { kind: `runner.${parts[1]!}`, id: parts[2]! };
  return undefined;
}

/** A stored record as `schema` reads it; undefined for one removed, or one that is not what live-crew writes. */
function parsed<T>(text: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (text === undefined) return undefined;
  const json = parseForeignJson(text, RECORD_MAX_DEPTH);
  if (json.problem !== undefined) return undefined;
  const result = schema.safeParse(json.value);
  return result.success ? result.data : undefined;
}
