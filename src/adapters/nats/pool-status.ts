import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { streamsWithEvents } from './jetstream-streams.js';
import { PoolRoster } from './pool-roster.js';

/** What a pool of workers is doing, as its bucket and `LIVE_EVENTS` say (DESIGN §12). */
export interface PoolStatus {
  /** Live workers (a beat good now): their ids, how many streams each owns, and which. */
  readonly workers: ReadonlyArray<{ readonly id: string; readonly owned: number; readonly streams: readonly string[] }>;
  /** Streams with events stored. */
  readonly streams: number;
  /** Those neither finished nor idle: what the workers share. */
  readonly active: number;
  readonly finished: number;
  readonly idle: number;
  /** Active streams no live worker owns: waiting for a claim (a worker just died, or none is up). */
  readonly unowned: readonly string[];
}

/** Reads the pool's state once: its bucket (watched until read) and the event counts of `LIVE_EVENTS`. */
export async function poolStatus(nc: NatsConnection, now: number): Promise<PoolStatus> {
  const roster = await PoolRoster.open(nc);
  try {
    const counts = await streamsWithEvents(jetstream(nc));
    const workers = [...roster.liveMembers('worker', now)].map(([id, beat]) => ({ id, owned: beat.streams.length, streams: [...beat.streams].sort() }));
    const owned = new Set(workers.flatMap((worker) => worker.streams));
    const finished = [...counts.keys()].filter((stream) => roster.isFinished(stream));
    const idle = new Set([...counts].filter(([stream, events]) => !roster.isFinished(stream) && roster.isIdle(stream, events)).map(([stream]) => stream));
    const active = [...counts.keys()].filter((stream) => !roster.isFinished(stream) && !idle.has(stream));
    return {
      workers: workers.sort((a, b) => (a.id < b.id ? -1 : 1)),
      streams: counts.size,
      active: active.length,
      finished: finished.length,
      idle: idle.size,
      unowned: active.filter((stream) => !owned.has(stream)).sort(),
    };
  } finally {
    roster.close();
  }
}
