/**
 * Takeover: how long a successor scheduler takes to carry on a stream, as the stream grows. A
 * scheduler and a runner run `--events` events (stored in JetStream first) to the end; the
 * scheduler stops cleanly; a new one starts, one more event is published, and the figure is the
 * time from the successor's start to that event's action being stored. A takeover that does not
 * grow with the stream keeps the same figure at every size; the last column is each size's time
 * over the smallest's.
 *
 *   node bench/dist/takeover.js [--events 10000,100000]
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseArgs } from 'node:util';
import { ensureLiveStreams, runDistributedRunner, runDistributedScheduler } from 'live-crew/nats';
import { crews } from './crews.js';
import { findBinary, natsServerArgs, ownedServer } from './local-servers.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '10000,100000' } } });
const SIZES = values.events.split(',').map(Number);
const STREAM = 'takeover';
const T0 = Date.parse('2024-05-01T12:00:00Z');
const KINDS = ['pass', 'shot', 'tackle'];

const natsBinary = findBinary('nats-server');
if (natsBinary === undefined) {
  console.log('takeover: nats-server not found on PATH or in /usr/sbin: skipped (apt-get install -y nats-server)');
  process.exit(0);
}
const startServer = ownedServer(natsBinary, natsServerArgs(), 'nats');

const eventLine = (i: number) => `{"ts":"${new Date(T0 + i).toISOString()}","kind":"${KINDS[i % 3]}","stream_id":"${STREAM}","payload":{"v":${i % 97}}}`;
// The emitter crew makes one action per event: the count of stored actions says how far the run is.
const options = (url: string) => ({ crews, configFile: false as const, env: {}, streamId: STREAM, config: { nats_url: url, context_max_bytes: 65_536, log_level: 'error' as const } });

async function publish(js: JetStreamClient, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 1000) {
    const acks: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(start + 1000, to); i++) acks.push(js.publish(`live.${STREAM}.events`, eventLine(i)));
    await Promise.all(acks);
  }
}

async function untilActions(nc: NatsConnection, count: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  while ((await jsm.streams.info('LIVE_ACTIONS')).state.messages < count) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Milliseconds from a successor scheduler's start to the action of the first event after the takeover. */
async function takeover(events: number): Promise<number> {
  const server = await startServer();
  const nc = await connect({ servers: server.url });
  const runnerStop = new AbortController();
  const leaderStop = new AbortController();
  const successorStop = new AbortController();
  try {
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    await publish(js, 0, events);
    const runner = runDistributedRunner({ ...options(server.url), selector: /.*/, signal: runnerStop.signal });
    const leader = runDistributedScheduler({ ...options(server.url), signal: leaderStop.signal });
    await untilActions(nc, events);
    leaderStop.abort();
    await leader;
    const started = process.hrtime.bigint();
    const successor = runDistributedScheduler({ ...options(server.url), signal: successorStop.signal });
    // Slices close by event time: the event after this one closes the slice of the one measured.
    await publish(js, events, events + 600);
    await untilActions(nc, events + 1);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    successorStop.abort();
    runnerStop.abort();
    await Promise.all([successor, runner]);
    return ms;
  } finally {
    await nc.close();
    await server.stop();
  }
}

const results: Array<{ events: number; ms: number }> = [];
for (const events of SIZES) results.push({ events, ms: await takeover(events) });
console.log('takeover: a successor scheduler carrying on a stream after the leader stopped cleanly');
for (const { events, ms } of results) {
  console.log(`  ${events.toLocaleString('en-US').padStart(9)} events  ${ms.toFixed(0).padStart(7)} ms  ${(ms / results[0]!.ms).toFixed(2)}x the smallest`);
}
