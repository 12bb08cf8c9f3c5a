/**
 * Throughput: N generated events (default 1M) through the app with three crews, against the
 * hand-written baseline doing the same work, in the same process, rounds interleaved so noise
 * hits both. Prints events/s of each and the ratio of their times.
 *
 *   npm run bench [-- --events 1000000 --rounds 3] [-- --deps]
 *
 * `--deps` makes the emitting crew depend on the context-writing one (offset -1) and read its
 * merged total: the dependency and merge paths of the engine, against the same by hand.
 */
import 'reflect-metadata';
import { ACTION_SINK, createLiveCrewApp, ERROR_SINK, EVENT_SOURCE, type EmittedAction, type EventSource, type InputBatch } from 'live-crew';
import { CollectingErrorSink } from 'live-crew/testing';
import { runBaseline } from './baseline.js';
import { crews as plainCrews, crewsWithDependency } from './crews.js';
import { eventLine } from './events.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const EVENTS = arg('events', 1_000_000);
const ROUNDS = arg('rounds', 3);
const WITH_DEPENDENCY = process.argv.includes('--deps');
const crews = WITH_DEPENDENCY ? crewsWithDependency : plainCrews;

/** Sums what a real sink would write, and nothing more. */
class MeasuringSink {
  bytes = 0;
  count = 0;
  write(actions: readonly EmittedAction[]): void {
    for (const a of actions) this.bytes += a.json.length;
    this.count += actions.length;
  }
  async close(): Promise<void> {}
}

/** Lines from memory in batches built as they are read, as the file source builds them. */
class LinesSource implements EventSource {
  constructor(private readonly lines: readonly string[]) {}
  async *batches(): AsyncGenerator<InputBatch> {
    const origin = { name: 'bench', locate: (line: number) => `bench:${line}` };
    for (let start = 0; start < this.lines.length; start += 1024) {
      const end = Math.min(start + 1024, this.lines.length);
      const records = [];
      for (let i = start; i < end; i++) records.push({ text: this.lines[i]!, position: i + 1 });
      yield { origin, records };
    }
  }
  async close(): Promise<void> {}
}

async function runFramework(lines: readonly string[]): Promise<{ seconds: number; actions: number }> {
  const sink = new MeasuringSink();
  const errors = new CollectingErrorSink();
  const app = await createLiveCrewApp({
    crews,
    configFile: false,
    env: {},
    // Log lines would interleave with the figures.
    configDefaults: { log_level: 'warn' },
    providers: [
      { token: EVENT_SOURCE, useValue: new LinesSource(lines) },
      { token: ACTION_SINK, useValue: sink },
      { token: ERROR_SINK, useValue: errors },
    ],
  });
  const started = process.hrtime.bigint();
  const summary = await app.run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (summary.events !== lines.length || sink.count !== lines.length || errors.errors.length > 0) {
    throw new Error(`framework run incomplete: ${JSON.stringify(summary)}`);
  }
  return { seconds, actions: sink.count };
}

function timeBaseline(lines: readonly string[]): number {
  const started = process.hrtime.bigint();
  const result = runBaseline(lines, WITH_DEPENDENCY);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.events !== lines.length) throw new Error('baseline run incomplete');
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const lines = Array.from({ length: EVENTS }, (_, i) => eventLine(i));
// Warm both paths up so the JIT has seen them before anything is timed.
await runFramework(lines.slice(0, 50_000));
timeBaseline(lines.slice(0, 50_000));

const framework: number[] = [];
const baseline: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  framework.push((await runFramework(lines)).seconds);
  baseline.push(timeBaseline(lines));
}
const f = median(framework);
const b = median(baseline);
const rate = (s: number) => Math.round(EVENTS / s).toLocaleString('en-US');
const emitter = WITH_DEPENDENCY ? 'emit with a dependency at -1 reading the merged total' : 'emit';
console.log(`throughput: ${EVENTS.toLocaleString('en-US')} events, 3 crews (count, context read+write, ${emitter}), median of ${ROUNDS} rounds`);
console.log(`  framework  ${rate(f).padStart(10)} events/s  (${f.toFixed(3)} s)`);
console.log(`  baseline   ${rate(b).padStart(10)} events/s  (${b.toFixed(3)} s)`);
console.log(`  framework time / baseline time = ${(f / b).toFixed(2)}x`);
