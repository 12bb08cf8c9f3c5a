import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTION_SINK, createLiveCrewApp, Crew, ERROR_SINK, OnEvent, type CrewContext, type Event } from '../../src/index.js';
import { CollectingActionSink, CollectingErrorSink } from '../../src/testing.js';

/**
 * A generated corpus of 100,000 lines (fixed seed) mixing valid events with every kind of bad
 * line a hostile or broken producer sends. The promise under test: every bad line is reported
 * once, naming its file:line, and the valid events give exactly the actions of a run over the
 * valid events alone.
 */
const LINES = 100_000;
const T0 = Date.parse('2024-05-01T12:00:00Z');

@Crew({ id: 'tally', maxErrors: 1_000_000 })
class Tally {
  @OnEvent('*')
  on(event: Event<{ v?: unknown }>, ctx: CrewContext): void {
    const n = (ctx.context.get<number>(event.kind) ?? 0) + 1;
    ctx.context.set(event.kind, n);
    ctx.emit('tally', { kind: event.kind, n, v: event.payload.v ?? null });
  }
}

/** A small deterministic PRNG (mulberry32): the same corpus on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Bad lines, each a way input goes wrong; `i` makes each one distinct. */
const BAD: ReadonlyArray<(i: number, ts: string) => string> = [
  () => '{"ts": ',
  () => 'not json at all',
  () => '[1,2,3]',
  () => '42',
  () => 'null',
  (i) => `{"ts":"yesterday","kind":"k${i % 7}","stream_id":"s1"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"__error","stream_id":"s1"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"has space","stream_id":"s1"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"a\\"b"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"x\\n{\\"kind\\":\\"__error\\"}"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"s1","payload":{"n":1e400}}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"s1","payload":${'['.repeat(2000)}${']'.repeat(2000)}}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"s1","payload":{"s":"${'x'.repeat(90_000)}"}}`,
  (_i, ts) => `{"ts":${JSON.stringify(ts)},"kind":7,"stream_id":"s1"}`,
  (_i, ts) => `{"ts":"${ts}","kind":"k","stream_id":"s1","payload":"\\ud800"}`.replace('\\ud800', '\\u00'),
  (i) => `{"ts":"${new Date(Date.parse('2099-01-01T00:00:00Z') + i * 7_200_000).toISOString()}","kind":"poison","stream_id":"s${i % 3}"}`,
];

function corpus(): { text: string; valid: string[]; bad: number[] } {
  const random = prng(20_261_125);
  const lines: string[] = [];
  const valid: string[] = [];
  const bad: number[] = [];
  const clock = [T0, T0, T0];
  for (let i = 0; i < LINES; i++) {
    const stream = Math.floor(random() * 3);
    clock[stream]! += Math.floor(random() * 50);
    const ts = new Date(clock[stream]!).toISOString();
    if (random() < 0.1) {
      lines.push(BAD[Math.floor(random() * BAD.length)]!(i, ts));
      bad.push(i + 1);
      continue;
    }
    const line = JSON.stringify({ ts, kind: `k${Math.floor(random() * 5)}`, stream_id: `s${stream}`, payload: { v: Math.floor(random() * 1000) }, extra: 'ignored' });
    lines.push(line);
    valid.push(line);
  }
  return { text: `\uFEFF${lines.join('\n')}\n`, valid, bad };
}

async function run(path: string) {
  const actions = new CollectingActionSink();
  const errors = new CollectingErrorSink();
  const app = await createLiveCrewApp({
    crews: [Tally],
    configFile: false,
    env: {},
    config: { input: path },
    providers: [
      { token: ACTION_SINK, useValue: actions },
      { token: ERROR_SINK, useValue: errors },
    ],
  });
  const summary = await app.run();
  return { summary, actions: actions.actions, errors: errors.errors };
}

describe('input fuzz: 100,000 generated lines, fixed seed (issue 10)', () => {
  it("reports every bad line once with file:line, and the valid events give the clean run's actions", async () => {
    const { text, valid, bad } = corpus();
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-fuzz-'));
    const [fuzzed, clean] = [join(dir, 'fuzzed.jsonl'), join(dir, 'clean.jsonl')];
    writeFileSync(fuzzed, text);
    writeFileSync(clean, `${valid.join('\n')}\n`);

    const hostile = await run(fuzzed);
    const reference = await run(clean);

    expect(bad.length).toBeGreaterThan(9000);
    expect(hostile.summary.events - hostile.errors.filter((e) => e.payload.event?.kind === 'poison').length).toBe(valid.length);
    expect(hostile.actions).toEqual(reference.actions);
    expect(reference.errors).toEqual([]);
    const reported = hostile.errors.map((e) => {
      expect(e.payload.reason).toBe('invalid_event');
      return Number(/:(\d+)$/.exec(e.payload.source!)![1]);
    });
    expect(reported.sort((a, b) => a - b)).toEqual(bad);
  });
});
