/**
 * Scale: many streams over a pool of workers (DESIGN §12). Each figure comes from `live-crew
 * worker` processes against a nats-server of its own, beside the same work done by the one
 * process that served every stream before the pool, `run --transport nats`:
 *
 * - backlog: `--streams` streams of `--events` events stored first, then served to the end by
 *   one worker, by two, and by `run --transport nats`: events/s, CPU per process, and two
 *   workers over one (a machine with 2 cores caps this near 2x, less what nats-server takes);
 * - live: `--live-streams` streams of `--rate` events/s each for `--seconds`, on two workers and
 *   on `run --transport nats` (live mode): p50/p99 from an event's publish to its action;
 * - rebalance: `--live-streams` live streams on two workers (lease 3 s): how long a joining third
 *   worker takes to own its share, and how long the streams of a SIGKILLed one take to be owned
 *   again (target: lease + 1 s);
 * - idle: `--idle` streams of one event each, owned by one worker in this process, then released
 *   after `stream_idle_ms`: the worker's heap per stream owned and per stream released.
 *
 *   node --expose-gc bench/dist/scale.js [--streams 100] [--events 200] [--live-streams 100] [--rate 10] [--seconds 10] [--idle 2000] [--parts backlog,live,rebalance,idle]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureLiveStreams, poolWorkerApp, publishEndOfStream } from 'live-crew/nats';
import { crews } from './crews.js';
import { findBinary, natsServerArgs, ownedServer } from './local-servers.js';
import { ownAs } from './owned-children.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '100' },
    events: { type: 'string', default: '200' },
    'live-streams': { type: 'string', default: '100' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    idle: { type: 'string', default: '2000' },
    parts: { type: 'string', default: 'backlog,live,rebalance,idle' },
  },
});
const PARTS = new Set(values.parts.split(','));
const [STREAMS, EVENTS, LIVE_STREAMS, RATE, SECONDS, IDLE] = [values.streams, values.events, values['live-streams'], values.rate, values.seconds, values.idle].map(Number) as [
  number,
  number,
  number,
  number,
  number,
  number,
];

const natsBinary = findBinary('nats-server');
if (natsBinary === undefined) {
  console.log('scale: nats-server not found on PATH or in /usr/sbin: skipped (apt-get install -y nats-server)');
  process.exit(0);
}
const startServer = ownedServer(natsBinary, natsServerArgs(), 'nats');
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const CREWS = join(ROOT, 'bench/dist/crews.js');
const T0 = Date.parse('2024-05-01T12:00:00Z');
/** Linux counts CPU time in ticks of 10 ms. */
const TICK_S = 0.01;

/** A live-crew process the bench started, with what Linux says of its CPU time and memory. */
interface Served {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  cpuSeconds(): number;
}

function serve(args: readonly string[], env: Record<string, string> = {}): Served {
  const child = ownAs(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, LIVE_CREW_LOG_LEVEL: 'error', ...env } }), undefined);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const proc = (file: string) => readFileSync(`/proc/${child.pid}/${file}`, 'utf8');
  return {
    child,
    exited,
    cpuSeconds: () => {
      // utime and stime are fields 14 and 15, after the command name in parentheses.
      const fields = proc('stat')
        .slice(proc('stat').lastIndexOf(')') + 2)
        .split(' ');
      return (Number(fields[11]) + Number(fields[12])) * TICK_S;
    },
  };
}

const worker = (url: string, id: string, env: Record<string, string> = {}) => serve(['worker', '--crews', CREWS, '--nats-url', url, '--id', id], env);
const oneProcess = (url: string, env: Record<string, string> = {}) => serve(['run', '-', '--crews', CREWS, '--transport', 'nats', '--nats-url', url], { LIVE_CREW_KV_BACKEND: 'jetstream', ...env });

async function stop(processes: readonly Served[]): Promise<void> {
  for (const p of processes) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
}

/** Event `i` of a stream, stamped `ts` (default: 100 ms apart from T0, for a stored backlog). */
const eventLine = (stream: string, i: number, ts = T0 + i * 100) => `{"ts":"${new Date(ts).toISOString()}","kind":"reading","stream_id":"${stream}","payload":{"v":${i}}}`;
const streamIds = (prefix: string, n: number) => Array.from({ length: n }, (_, s) => `${prefix}${s}`);

async function publishBacklog(js: JetStreamClient, ids: readonly string[], events: number): Promise<void> {
  for (let i = 0; i < events; i++) await Promise.all(ids.map((id) => js.publish(`live.${id}.events`, eventLine(id, i))));
  for (const id of ids) await publishEndOfStream(js, id);
}

async function storedActions(nc: NatsConnection): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info('LIVE_ACTIONS')).state.messages;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('scale: timed out');
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** A fresh server with live-crew's streams, for one measurement. */
async function withServer<T>(measure: (url: string, nc: NatsConnection) => Promise<T>): Promise<T> {
  const server = await startServer();
  const nc = await connect({ servers: server.url });
  try {
    await ensureLiveStreams(nc);
    return await measure(server.url, nc);
  } finally {
    await nc.close();
    await server.stop();
  }
}

/** Serves a stored backlog to its end: events/s and CPU seconds per process. */
async function backlog(start: (url: string) => Served[]): Promise<{ rate: number; cpu: number[] }> {
  return withServer(async (url, nc) => {
    const ids = streamIds('b', STREAMS);
    await publishBacklog(jetstream(nc), ids, EVENTS);
    const started = performance.now();
    const processes = start(url);
    // The emitter makes one action per event.
    await until(async () => (await storedActions(nc)) >= STREAMS * EVENTS);
    const seconds = (performance.now() - started) / 1000;
    const cpu = processes.map((p) => p.cpuSeconds());
    await stop(processes);
    return { rate: (STREAMS * EVENTS) / seconds, cpu };
  });
}

/** Publish-to-action latencies of streams fed live, in ms. */
async function live(start: (url: string) => Served[]): Promise<{ p50: number; p99: number; sent: number; seen: number; stored: number }> {
  return withServer(async (url, nc) => {
    const ids = streamIds('l', LIVE_STREAMS);
    const processes = start(url);
    const js = jetstream(nc);
    // Every stream under way before the clock starts: claimed by a worker, or consumed. Live
    // events are stamped when they are sent, as a live source's are: event time keeps wall time.
    await Promise.all(ids.map((id) => js.publish(`live.${id}.events`, eventLine(id, -1, Date.now()))));
    await until(async () => (await storedActions(nc)) >= ids.length);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const subscription = nc.subscribe('live.*.actions', {
      callback: (_error, message) => {
        const action = message.json<{ stream_id: string; payload: { v: number } }>();
        const sent = sentAt.get(`${action.stream_id}:${action.payload.v}`);
        if (sent !== undefined) latencies.push(performance.now() - sent);
      },
    });
    const ticks = RATE * SECONDS;
    const firstTick = performance.now();
    for (let i = 0; i < ticks; i++) {
      await new Promise((done) => setTimeout(done, Math.max(0, firstTick + (i * 1000) / RATE - performance.now())));
      for (const id of ids) {
        sentAt.set(`${id}:${i}`, performance.now());
        void js.publish(`live.${id}.events`, eventLine(id, i, Date.now()));
      }
    }
    // Every action stored, the warm-up's included: what the subscription missed shows as seen < sent.
    await until(async () => (await storedActions(nc)) >= ids.length * (ticks + 1), 60_000).catch(() => undefined);
    const stored = (await storedActions(nc)) - ids.length;
    const errors = (await (await jetstreamManager(nc)).streams.info('LIVE_ERRORS')).state.messages;
    if (errors > 0) {
      const last = await (await jetstream(nc).streams.get('LIVE_ERRORS')).getMessage({ last_by_subj: `live.${ids[0]}.errors` }).catch(() => null);
      console.log(`  (${errors} error records; the last of ${ids[0]}: ${last?.string().slice(0, 300) ?? 'none'})`);
    }
    subscription.unsubscribe();
    await stop(processes);
    const sorted = latencies.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    return { p50: at(0.5), p99: at(0.99), sent: ids.length * ticks, seen: latencies.length, stored };
  });
}

/** The streams each worker's beat says it owns. */
async function owners(nc: NatsConnection): Promise<Map<string, string[]>> {
  // Made as the workers make it: the first may not be up yet.
  const pool = await new Kvm(nc).create('live_crew_pool', { history: 1 });
  const found = new Map<string, string[]>();
  for await (const key of await pool.keys('worker.*')) {
    const entry = await pool.get(key);
    if (entry?.operation === 'PUT') found.set(key.slice('worker.'.length), entry.json<{ streams: string[] }>().streams);
  }
  return found;
}

/**
 * Live streams on two workers, then a third joining, then one of the first two SIGKILLed: ms
 * until the third owns its share, and until every stream of the killed one is owned by another
 * again.
 */
async function rebalance(): Promise<{ joinMs: number; takeoverMs: number; leaseMs: number; orphans: number }> {
  const leaseMs = 3000;
  return withServer(async (url, nc) => {
    const ids = streamIds('r', LIVE_STREAMS);
    const env = { LIVE_CREW_MODE: 'live', LIVE_CREW_LEASE_MS: String(leaseMs) };
    const js = jetstream(nc);
    let feeding = true;
    // One event a second per stream: every stream stays active.
    const feed = (async () => {
      for (let i = 0; feeding; i++) {
        await Promise.all(ids.map((id) => js.publish(`live.${id}.events`, eventLine(id, i, Date.now()))));
        await new Promise((done) => setTimeout(done, 1000));
      }
    })();
    const processes = [worker(url, 'w1', env), worker(url, 'w2', env)];
    const ownedBy = async (id: string) => (await owners(nc)).get(id)?.length ?? 0;
    await until(async () => (await ownedBy('w1')) + (await ownedBy('w2')) === ids.length);
    const joined = performance.now();
    processes.push(worker(url, 'w3', env));
    // Its share is what the others leave it once each holds ceil(streams / 3).
    await until(async () => (await ownedBy('w3')) >= ids.length - 2 * Math.ceil(ids.length / 3));
    const joinMs = performance.now() - joined;
    await until(async () => (await ownedBy('w1')) > 0);
    const orphans = (await owners(nc)).get('w1') ?? [];
    const killed = performance.now();
    processes[0]!.child.kill('SIGKILL');
    await processes[0]!.exited;
    await until(async () => {
      const all = await owners(nc);
      const held = new Set([...(all.get('w2') ?? []), ...(all.get('w3') ?? [])]);
      return orphans.every((stream) => held.has(stream));
    });
    const takeoverMs = performance.now() - killed;
    feeding = false;
    await feed;
    await stop(processes.slice(1));
    return { joinMs, takeoverMs, leaseMs, orphans: orphans.length };
  });
}

/**
 * The heap of a worker in this process (`poolWorkerApp`, after a full GC) with no stream, owning
 * `IDLE` quiet streams, and after it released them idle: what a stream costs while owned and idle.
 */
async function idle(): Promise<{ emptyKb: number; ownedKb: number; releasedKb: number; claimMs: number }> {
  return withServer(async (url, nc) => {
    const ids = streamIds('i', IDLE);
    const heapKb = async () => {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await new Promise((done) => setTimeout(done, 50));
      }
      return process.memoryUsage().heapUsed / 1024;
    };
    // Long enough for every claim to land before the first claimed is released (about 10 ms a claim here).
    const idleMs = Math.max(15_000, IDLE * 30);
    const app = await poolWorkerApp({ crews, configFile: false, env: {}, id: 'idle', config: { nats_url: url, log_level: 'error', stream_idle_ms: idleMs } });
    const running = app.run();
    const pool = await new Kvm(nc).create('live_crew_pool', { history: 1 });
    const owned = async () => {
      const entry = await pool.get('worker.idle');
      return entry === null || entry.operation !== 'PUT' ? -1 : entry.json<{ streams: string[] }>().streams.length;
    };
    await until(async () => (await owned()) === 0);
    const emptyKb = await heapKb();
    const js = jetstream(nc);
    await Promise.all(ids.map((id) => js.publish(`live.${id}.events`, eventLine(id, 0))));
    const started = performance.now();
    await until(async () => (await owned()) === ids.length);
    const claimMs = performance.now() - started;
    const ownedKb = await heapKb();
    await until(async () => (await owned()) === 0);
    const releasedKb = await heapKb();
    await app.stop();
    await running;
    return { emptyKb, ownedKb, releasedKb, claimMs };
  });
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

if (PARTS.has('backlog')) {
  console.log(`scale: backlog of ${STREAMS} streams x ${EVENTS} events (3 crews, one action per event)`);
  const single = await backlog((url) => [oneProcess(url)]);
  const one = await backlog((url) => [worker(url, 'w1')]);
  const two = await backlog((url) => [worker(url, 'w1'), worker(url, 'w2')]);
  console.log(`  run --transport nats (one process): ${fmt(single.rate)} events/s, CPU ${fmt(single.cpu[0]!, 1)} s`);
  console.log(`  1 worker:                           ${fmt(one.rate)} events/s, CPU ${fmt(one.cpu[0]!, 1)} s   (${fmt(one.rate / single.rate, 2)}x the one process)`);
  console.log(`  2 workers:                          ${fmt(two.rate)} events/s, CPU ${two.cpu.map((c) => fmt(c, 1)).join(' + ')} s   (${fmt(two.rate / one.rate, 2)}x one worker)`);
}

if (PARTS.has('live')) {
  console.log(`scale: live, ${LIVE_STREAMS} streams x ${RATE} events/s for ${SECONDS} s, live mode`);
  const liveEnv = { LIVE_CREW_MODE: 'live' };
  const liveOne = await live((url) => [oneProcess(url, liveEnv)]);
  const liveWorker = await live((url) => [worker(url, 'w1', liveEnv)]);
  const livePool = await live((url) => [worker(url, 'w1', liveEnv), worker(url, 'w2', liveEnv)]);
  const line = (name: string, figures: Awaited<ReturnType<typeof live>>) =>
    `  ${name.padEnd(21)} p50 ${fmt(figures.p50, 1)} ms, p99 ${fmt(figures.p99, 1)} ms (${figures.stored}/${figures.sent} actions stored, ${figures.seen} timed)   p99 ${fmt(figures.p99 / liveOne.p99, 2)}x the one process`;
  console.log(line('run --transport nats:', liveOne));
  console.log(line('1 worker:', liveWorker));
  console.log(line('2 workers:', livePool));
}

if (PARTS.has('rebalance')) {
  console.log(`scale: rebalance, ${LIVE_STREAMS} live streams on 2 workers, a third joins, then one is SIGKILLed`);
  const moved = await rebalance();
  console.log(`  the joining worker owned its share ${fmt(moved.joinMs)} ms after it started (target <= 10000)`);
  console.log(`  the ${moved.orphans} streams of the killed worker were owned again ${fmt(moved.takeoverMs)} ms after the kill (lease ${moved.leaseMs} ms; target <= ${moved.leaseMs + 1000})`);
}

if (PARTS.has('idle')) {
  console.log(`scale: ${IDLE} streams of one event each on one worker (in this process)`);
  if (globalThis.gc === undefined) console.log('  (run with node --expose-gc for heap figures after a full GC)');
  const memory = await idle();
  console.log(
    `  claimed all in ${fmt(memory.claimMs)} ms; heap ${fmt(memory.emptyKb / 1024, 1)} MB with none, ${fmt(memory.ownedKb / 1024, 1)} MB owning them, ${fmt(memory.releasedKb / 1024, 1)} MB once released idle`,
  );
  console.log(`  heap per stream owned: ${fmt((memory.ownedKb - memory.emptyKb) / IDLE, 1)} KB; per stream released idle: ${fmt((memory.releasedKb - memory.emptyKb) / IDLE, 1)} KB (target <= 20 KB)`);
}
process.exit(0);
