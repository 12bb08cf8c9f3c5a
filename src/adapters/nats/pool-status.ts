import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { PoolMemberView, PoolStreamView, PoolView } from '../../framework/distributed/pool-view.js';
import { streamsWithEvents } from './jetstream-streams.js';
import { PoolRoster, type MemberBeat } from './pool-roster.js';

/** Reads the pool's state once: its bucket (watched until read) and the event counts of `LIVE_EVENTS`. */
export async function readPoolStatus(nc: NatsConnection, now: number): Promise<PoolView> {
  const roster = await PoolRoster.open(nc);
  try {
    return await poolStatus(roster, jetstream(nc), now);
  } finally {
    roster.close();
  }
}

/** The pool's state at `now`, from a roster being watched and the event counts of `LIVE_EVENTS`. */
export async function poolStatus(roster: PoolRoster, js: JetStreamClient, now: number): Promise<PoolView> {
  const counts = await streamsWithEvents(js);
  const workers = members(roster.liveMembers('worker', now));
  const groups = roster
    .liveGroups(now)
    .sort()
    .map((group) => ({ group, runners: members(roster.liveMembers(`runner.${group}`, now)) }));
  const ownerOf = (list: readonly PoolMemberView[]) => new Map(list.flatMap((member) => member.streams.map((stream) => [stream, member.id] as const)));
  const workerOf = ownerOf(workers);
  const runnersOf = groups.map(({ group, runners }) => [group, ownerOf(runners)] as const);
  const stateOf = (stream: string, events: number): PoolStreamView['state'] => (roster.isFinished(stream) ? 'finished' : roster.isIdle(stream, events) ? 'idle' : 'active');
  const list = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([id, events]): PoolStreamView => ({
        id,
        events,
        state: stateOf(id, events),
        worker: workerOf.get(id) ?? null,
        runners: Object.fromEntries(runnersOf.flatMap(([group, owners]) => (owners.has(id) ? [[group, owners.get(id)!]] : []))),
      }),
    );
  const count = (state: PoolStreamView['state']) => list.filter((stream) => stream.state === state).length;
  return {
    workers,
    groups,
    streams: list.length,
    active: count('active'),
    finished: count('finished'),
    idle: count('idle'),
    unowned: list.filter((stream) => stream.state === 'active' && stream.worker === null).map((stream) => stream.id),
    list,
  };
}

/** Live members by id, each with its streams sorted. */
function members(live: ReadonlyMap<string, MemberBeat>): PoolMemberView[] {
  return [...live].map(([id, beat]) => ({ id, owned: beat.streams.length, streams: [...beat.streams].sort() })).sort((a, b) => (a.id < b.id ? -1 : 1));
}
