/**
 * Latency: live mode at a fixed rate (default 10k events/s for 10 s) with the match-day rules;
 * prints event→action latency p50 / p99 / max for the framework and for a hand-written handler
 * fed by the same paced feed into the same sink, and the ratio of their p99. Each runs a second
 * of warm-up first, not measured: a process just started runs its code unoptimised, and the
 * framework, which runs first and has more code to compile, would pay for it alone.
 *
 *   npm run bench:latency [-- --rate 10000 --seconds 10]
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { ACTION_SINK, createLiveCrewApp, ERROR_SINK, EVENT_SOURCE, type CrewClass, type EmittedAction } from 'live-crew';
import { CollectingErrorSink } from 'live-crew/testing';
import { PacedFeed, percentiles } from './paced-feed.js';

// The match-day example's rules, as built (this file runs from bench/dist); not its pundit, a
// simulated model call that has no hand-written twin in the baseline.
const { crews: matchDay, Pundit } = (await import(new URL('../../examples/match-day/dist/crews.js', import.meta.url).href)) as { crews: CrewClass[]; Pundit: CrewClass };
const crews = matchDay.filter((crew) => crew !== Pundit);

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const RATE = arg('rate', 10_000);
const SECONDS = arg('seconds', 10);
const T0 = Date.parse('2024-05-18T15:00:00Z');
const KINDS = ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'shot', 'goal', 'card'];

/** The i-th event: match-day kinds with goals and cards frequent enough to give many samples. */
function eventLine(i: number): string {
  const kind = KINDS[i % KINDS.length]!;
  const team = i % 2 === 0 ? 'home' : 'away';
  const payload = { team, player: `p${i % 11}`, minute: 1 + Math.floor(i / (RATE * 60)), on_target: true, colour: i % 18 === 8 ? 'red' : 'yellow' };
  // Events are 1 ms of event time apart, so each action's ts names its event exactly. Above 1k
  // events/s, event time then runs faster than the wall clock: slices close more often than in
  // a real-time feed (a harder load, not an easier one).
  return JSON.stringify({ ts: new Date(T0 + i).toISOString(), kind, stream_id: 'match_42', payload });
}

/** The events of the warm-up: the first second's. */
const WARM_UP_EVENTS = RATE;

/** Takes each action's latency from its event's arrival, after the warm-up. */
class LatencySink {
  readonly samples: number[] = [];
  constructor(private readonly arrivals: Map<string, number>) {}
  write(actions: readonly EmittedAction[]): void {
    const now = performance.now();
    for (const { action } of actions) {
      // An action's ts is its event's: T0 plus the event's index, in ms.
      if (Date.parse(action.ts) - T0 >= WARM_UP_EVENTS) this.samples.push(now - this.arrivals.get(action.ts)!);
    }
  }
  async close(): Promise<void> {}
}

async function runFramework(lines: readonly string[]): Promise<number[]> {
  const feed = new PacedFeed(lines, RATE);
  const sink = new LatencySink(feed.arrivals);
  const app = await createLiveCrewApp({
    crews,
    configFile: false,
    env: {},
    config: { mode: 'live', context_max_bytes: 65_536, log_level: 'warn' },
    providers: [
      { token: EVENT_SOURCE, useValue: feed },
      { token: ACTION_SINK, useValue: sink },
      { token: ERROR_SINK, useValue: new CollectingErrorSink() },
    ],
  });
  await app.run();
  return sink.samples;
}

/** The same work by hand: parse, check, keep the score, emit a commentary line and a goal overlay. */
async function runBaseline(lines: readonly string[]): Promise<number[]> {
  const feed = new PacedFeed(lines, RATE);
  const sink = new LatencySink(feed.arrivals);
  const score = { home: 0, away: 0 };
  for await (const { records } of feed.batches()) {
    const out: EmittedAction[] = [];
    for (const { text } of records) {
      const e = JSON.parse(text!) as { ts: string; kind: string; stream_id: string; payload: { team: 'home' | 'away'; player: string; minute: number; colour: string } };
      if (typeof e.kind !== 'string' || typeof e.ts !== 'string' || !Number.isFinite(Date.parse(e.ts))) continue;
      if (e.kind === 'goal') {
        score[e.payload.team]++;
        const action = { ts: e.ts, kind: 'overlay', stream_id: e.stream_id, payload: { team: e.payload.team, player: e.payload.player }, ttl_ms: 8000 };
        out.push({ action, json: JSON.stringify(action), id: `${e.ts}:overlay` });
      }
      if (e.kind === 'goal' || e.kind === 'card') {
        const action = { ts: e.ts, kind: 'commentary', stream_id: e.stream_id, payload: { line: `${e.payload.minute}' ${e.kind}`, score: { ...score } }, ttl_ms: 5000 };
        out.push({ action, json: JSON.stringify(action), id: `${e.ts}:commentary` });
      }
    }
    sink.write(out);
  }
  return sink.samples;
}

const lines = Array.from({ length: WARM_UP_EVENTS + RATE * SECONDS }, (_, i) => eventLine(i));
const framework = percentiles(await runFramework(lines));
const baseline = percentiles(await runBaseline(lines));
const ms = (x: number) => `${x.toFixed(3)} ms`.padStart(10);
console.log(`latency: live mode, ${RATE.toLocaleString('en-US')} events/s for ${SECONDS} s after a second of warm-up (1 ms of event time apart), match-day rules; event arrival -> action at the sink`);
console.log(`  framework  p50 ${ms(framework.p50)}  p99 ${ms(framework.p99)}  max ${ms(framework.max)}`);
console.log(`  baseline   p50 ${ms(baseline.p50)}  p99 ${ms(baseline.p99)}  max ${ms(baseline.max)}`);
console.log(`  framework p99 / baseline p99 = ${(framework.p99 / baseline.p99).toFixed(2)}x`);
