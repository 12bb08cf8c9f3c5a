/**
 * Crews that take time (DESIGN §8), three figures from one run:
 *
 * 1. Latency: live mode, 3 streams, 200 events/s for 10 s, 4 fast crews; then the same with a
 *    crew whose calls await 300 ms (every 40th event, lag 2). Prints the fast crews' event→action
 *    p50/p99/max in both runs and the ratio of their p99 (goal ≤ 1.5×).
 * 2. Concurrency: 60 calls of 300 ms on 20 streams (3 each), crew concurrency 20, batch mode.
 *    Prints the wall time against the sum of the calls, and the achieved concurrency as a share
 *    of the ideal (goal ≥ 90%).
 * 3. Isolation overhead: a trivial crew over 20k events on 8 streams, in process, in worker
 *    threads and in child processes (4 of each); events/s from the run's start and while it runs
 *    (isolates start with the run), and the ratios to in process (goal ≥ 0.5× threads, ≥ 0.3×
 *    processes).
 *
 *   npm run bench:slow [-- --rate 200 --seconds 10]
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ACTION_SINK, createLiveCrewApp, ERROR_SINK, EVENT_SOURCE, type CrewClass, type EmittedAction, type EventSource, type LiveCrewConfigInput } from 'live-crew';
import { ArrayEventSource, CollectingErrorSink } from 'live-crew/testing';
import { fastCrews, Model, SLOW_CALL_MS, Trivial } from './timed-crews.js';
import { LatencySink, PacedFeed, percentiles } from './paced-feed.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const RATE = arg('rate', 200);
const SECONDS = arg('seconds', 10);
const STREAMS = ['s1', 's2', 's3'];
const CREWS_MODULE = fileURLToPath(new URL('./timed-crews.js', import.meta.url));

/** Event i at real-time spacing, on the streams in turn; every 40th asks the model. */
function eventLine(i: number, start: number): string {
  const kind = i % 40 === 39 ? 'question' : 'tick';
  return JSON.stringify({ ts: new Date(start + Math.round((i * 1000) / RATE)).toISOString(), kind, stream_id: STREAMS[i % STREAMS.length], payload: { i } });
}

async function app(crews: readonly CrewClass[], source: EventSource, sink: { write(actions: readonly EmittedAction[]): void; close(): Promise<void> }, config: LiveCrewConfigInput) {
  return createLiveCrewApp({
    crews,
    crewsModule: CREWS_MODULE,
    configFile: false,
    env: {},
    config: { log_level: 'warn', ...config },
    providers: [
      { token: EVENT_SOURCE, useValue: source },
      { token: ACTION_SINK, useValue: sink },
      { token: ERROR_SINK, useValue: new CollectingErrorSink() },
    ],
  });
}

async function latency(crews: readonly CrewClass[]): Promise<{ fast: number[]; answers: number }> {
  const start = Date.now();
  const lines = Array.from({ length: RATE * SECONDS }, (_, i) => eventLine(i, start));
  const feed = new PacedFeed(lines, RATE);
  const sink = new LatencySink(feed.arrivals);
  await (await app(crews, feed, sink, { mode: 'live' })).run();
  return sink;
}

/** Counts what reaches the sink, and when a quarter of `expected` had. */
class CountingSink {
  count = 0;
  quarterAt: number | undefined;
  readonly #expected: number;
  constructor(expected = Number.POSITIVE_INFINITY) {
    this.#expected = expected;
  }
  write(actions: readonly EmittedAction[]): void {
    this.count += actions.length;
    if (this.quarterAt === undefined && this.count >= this.#expected / 4) this.quarterAt = performance.now();
  }
  async close(): Promise<void> {}
}

async function concurrency(): Promise<{ wallMs: number; calls: number }> {
  const T0 = Date.parse('2024-05-01T12:00:00Z');
  const events = Array.from({ length: 20 }, (_, s) => [0, 1, 2].map((n) => ({ ts: new Date(T0 + n * 10).toISOString(), kind: 'question', stream_id: `q${s}`, payload: {} }))).flat();
  const sink = new CountingSink();
  const started = performance.now();
  await (await app([Model], new ArrayEventSource(events), sink, {})).run();
  return { wallMs: performance.now() - started, calls: sink.count };
}

/**
 * Events per second of a trivial crew: from the run's start (its isolates started then included),
 * and while it runs (the last three quarters of the actions), which start-up does not skew.
 */
async function throughput(isolation: 'none' | 'worker' | 'process'): Promise<{ fromStart: number; running: number }> {
  const T0 = Date.parse('2024-05-01T12:00:00Z');
  const events = Array.from({ length: 20_000 }, (_, i) => ({ ts: new Date(T0 + i).toISOString(), kind: 'tick', stream_id: `t${i % 8}`, payload: { i } }));
  const sink = new CountingSink(events.length);
  const instance = await app([Trivial], new ArrayEventSource(events), sink, { isolation });
  const started = performance.now();
  await instance.run();
  const ended = performance.now();
  if (sink.count !== events.length) throw new Error(`isolation ${isolation}: ${sink.count} actions for ${events.length} events`);
  return { fromStart: events.length / ((ended - started) / 1000), running: (events.length * 0.75) / ((ended - sink.quarterAt!) / 1000) };
}

const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(10);
const without = percentiles((await latency(fastCrews)).fast);
const withSlow = await latency([...fastCrews, Model]);
const slowRun = percentiles(withSlow.fast);
console.log(`slow crews: live mode, ${RATE} events/s on ${STREAMS.length} streams for ${SECONDS} s, 4 fast crews; the slow crew awaits ${SLOW_CALL_MS} ms on every 40th event (lag 2)`);
console.log(`  fast crews alone        p50 ${ms(without.p50)}  p99 ${ms(without.p99)}  max ${ms(without.max)}`);
console.log(`  beside the slow crew    p50 ${ms(slowRun.p50)}  p99 ${ms(slowRun.p99)}  max ${ms(slowRun.max)}  (${withSlow.answers} slow answers)`);
console.log(`  p99 beside the slow crew / p99 alone = ${(slowRun.p99 / without.p99).toFixed(2)}x`);

const { wallMs, calls } = await concurrency();
const ideal = Math.min(20, 20);
const achieved = (calls * SLOW_CALL_MS) / wallMs;
console.log(`concurrency: ${calls} calls of ${SLOW_CALL_MS} ms on 20 streams (3 each, one at a time per stream), concurrency 20, batch mode`);
console.log(`  wall ${wallMs.toFixed(0)} ms for ${calls * SLOW_CALL_MS} ms of calls (fastest possible ${3 * SLOW_CALL_MS} ms)`);
console.log(`  achieved concurrency ${achieved.toFixed(1)} of ${ideal} = ${((achieved / ideal) * 100).toFixed(0)}% of ideal`);

const inProcess = await throughput('none');
const worker = await throughput('worker');
const child = await throughput('process');
const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} events/s`.padStart(18);
const share = (x: number, of: number) => `${(x / of).toFixed(3)}x`.padStart(7);
console.log("isolation overhead: a trivial crew, 20k events on 8 streams, batch mode; 4 workers / child processes, one call each at a time, a lane's waiting calls sent together");
console.log(`  ${''.padEnd(16)} ${'from start'.padStart(18)} ${'while running'.padStart(18)}  (x in process, from start / while running)`);
console.log(`  in process       ${rate(inProcess.fromStart)} ${rate(inProcess.running)}`);
console.log(`  worker threads   ${rate(worker.fromStart)} ${rate(worker.running)}  ${share(worker.fromStart, inProcess.fromStart)} ${share(worker.running, inProcess.running)}`);
console.log(`  child processes  ${rate(child.fromStart)} ${rate(child.running)}  ${share(child.fromStart, inProcess.fromStart)} ${share(child.running, inProcess.running)}`);
