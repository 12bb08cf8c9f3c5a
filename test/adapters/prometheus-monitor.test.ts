import { describe, expect, it } from 'vitest';
import { ACTION_SINK, createLiveCrewApp, Crew, ERROR_SINK, EVENT_SOURCE, MONITOR, OnEvent, type CrewContext, type Event, type EventSource, type InputBatch } from '../../src/index.js';
import { PrometheusMonitor } from '../../src/prometheus.js';
import { MAX_STREAM_SERIES } from '../../src/adapters/prometheus/prometheus-monitor.js';
import { DashboardFeed } from '../../src/adapters/dashboard/dashboard-feed.js';
import { CollectingActionSink, CollectingErrorSink, scriptedModel } from '../../src/testing.js';

@Crew({ id: 'scorer', maxErrors: 1 })
class Scorer {
  @OnEvent('goal')
  on(event: Event<{ team: string }>, ctx: CrewContext): void {
    if (event.payload.team === 'nobody') throw new Error('no such team');
    ctx.context.set('last', event.payload.team);
    ctx.emit('overlay', { team: event.payload.team });
  }
}

/** One batch of lines, then open until `end()`: the app keeps running while the test scrapes. */
class HeldSource implements EventSource {
  #end!: () => void;
  readonly #ended = new Promise<void>((resolve) => (this.#end = resolve));
  constructor(readonly lines: readonly string[]) {}
  async *batches(): AsyncGenerator<InputBatch> {
    yield { origin: { name: 'held', locate: (i) => `held:${i}` }, records: this.lines.map((text, position) => ({ text, position })) };
    await this.#ended;
  }
  end(): void {
    this.#end();
  }
  async close(): Promise<void> {
    this.#end();
  }
}

/** The samples of a Prometheus text exposition: `name{labels}` -> value; HELP/TYPE lines checked. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line).toMatch(/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(match, `a sample line: ${line}`).not.toBeNull();
    samples.set(match![1]!, Number(match![2]));
  }
  return samples;
}

const T0 = Date.UTC(2024, 4, 18, 15);
const line = (second: number, kind: string, payload: object) => JSON.stringify({ ts: new Date(Date.UTC(2024, 4, 18, 15, 0, second)).toISOString(), kind, stream_id: 'm1', payload });

describe('PrometheusMonitor', () => {
  it('serves /metrics over HTTP while the app runs: events, actions, errors, handler durations, lag, context size, disabled crews', async () => {
    const monitor = new PrometheusMonitor(0);
    const source = new HeldSource([line(0, 'goal', { team: 'home' }), 'not json', line(2, 'goal', { team: 'away' }), line(3, 'goal', { team: 'nobody' }), line(1, 'goal', { team: 'late' })]);
    const app = await createLiveCrewApp({
      crews: [Scorer],
      configFile: false,
      env: {},
      configDefaults: { log_level: 'silent' },
      providers: [
        { token: EVENT_SOURCE, useValue: source },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
        { token: MONITOR, useValue: monitor },
      ],
    });
    const running = app.run();
    let samples = new Map<string, number>();
    for (let tries = 0; tries < 100 && !(samples.get('live_crew_actions_sent_total{kind="overlay"}') === 2); tries++) {
      await new Promise((done) => setTimeout(done, 20));
      if (monitor.port === undefined) continue;
      const response = await fetch(`http://127.0.0.1:${monitor.port}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      samples = parseExposition(await response.text());
    }
    expect(samples.get('live_crew_events_total{stream="m1",outcome="accepted"}')).toBe(4);
    expect(samples.get('live_crew_events_total{stream="_unknown",outcome="invalid"}')).toBe(1);
    expect(samples.get('live_crew_events_total{stream="m1",outcome="late"}')).toBe(1);
    expect(samples.get('live_crew_actions_sent_total{kind="overlay"}')).toBe(2);
    expect(samples.get('live_crew_errors_total{crew="scorer",reason="handler_error"}')).toBe(1);
    expect(samples.get('live_crew_errors_total{crew="",reason="invalid_event"}')).toBe(1);
    expect(samples.get('live_crew_crew_disabled{crew="scorer"}')).toBe(1);
    expect(samples.get('live_crew_handler_duration_seconds_count{crew="scorer"}')).toBe(3);
    // The events are from 2024: the crew runs that far behind the wall clock.
    expect(samples.get('live_crew_slice_lag_seconds{crew="scorer"}')).toBeGreaterThan(3600 * 24 * 365);
    expect(samples.get('live_crew_context_bytes{stream="m1"}')).toBe(Buffer.byteLength(JSON.stringify({ last: 'home' })));
    expect((await fetch(`http://127.0.0.1:${monitor.port}/other`)).status).toBe(404);

    const port = monitor.port!;
    source.end();
    await running;
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('forgets the series of a stream the engine forgets as idle, and counts streams past its bound under _other', async () => {
    const monitor = new PrometheusMonitor();
    const feed = new DashboardFeed({ mode: 'run', title: 'idle streams' });
    const ended = new HeldSource([0, 1, 2].map((i) => JSON.stringify({ ts: new Date(T0 + i * 600_000).toISOString(), kind: 'goal', stream_id: `s${i}`, payload: { team: 'home' } })));
    ended.end();
    const app = await createLiveCrewApp({
      crews: [Scorer],
      configFile: false,
      env: {},
      configDefaults: { log_level: 'silent' },
      observer: [feed],
      config: { stream_idle_ms: 60_000 },
      providers: [
        { token: EVENT_SOURCE, useValue: ended },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
        { token: MONITOR, useValue: monitor },
      ],
    });
    await app.run();
    const samples = parseExposition(await monitor.registry.metrics());
    // s0 and s1 were idle for ten minutes of event time when the next stream's event came.
    expect([...samples.keys()].filter((name) => name.includes('stream="s'))).toEqual(['live_crew_events_total{stream="s2",outcome="accepted"}', 'live_crew_context_bytes{stream="s2"}']);
    expect(feed.view().streams.map((stream) => stream.id)).toEqual(['s2']);

    for (let i = 0; i < MAX_STREAM_SERIES + 5; i++) monitor.eventAccepted({ ts: new Date(T0).toISOString(), kind: 'goal', stream_id: `many${i}`, payload: {} });
    const many = parseExposition(await monitor.registry.metrics());
    expect([...many.keys()].filter((name) => name.startsWith('live_crew_events_total')).length).toBe(MAX_STREAM_SERIES + 1);
    expect(many.get('live_crew_events_total{stream="_other",outcome="accepted"}')).toBe(6);
  });

  it('counts heartbeats and heartbeat gaps', async () => {
    const monitor = new PrometheusMonitor();
    monitor.heartbeat();
    monitor.heartbeat();
    monitor.heartbeatGap();
    const samples = parseExposition(await monitor.metrics());
    expect(samples.get('live_crew_heartbeats_total')).toBe(2);
    expect(samples.get('live_crew_heartbeat_gaps_total')).toBe(1);
  });
});

/** Asserts each sample `expected` names has its value: one assertion shows every difference. */
function expectSamples(samples: ReadonlyMap<string, number>, expected: Record<string, number>): void {
  expect(Object.fromEntries(Object.keys(expected).map((name) => [name, samples.get(name)]))).toEqual(expected);
}

describe('PrometheusMonitor: model calls', () => {
  @Crew({ id: 'talker', maxTokensPerSlice: 5 })
  class Talker {
    @OnEvent('goal')
    async on(_event: Event, ctx: CrewContext): Promise<void> {
      const answer = await ctx.model().doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'twelve chars' }] }] });
      ctx.emit('said', { parts: answer.content.length });
    }
  }

  it('counts calls by crew, model and outcome, tokens by type, and times them; an app run feeds it', async () => {
    const monitor = new PrometheusMonitor();
    const app = await createLiveCrewApp({
      crews: [Talker],
      configFile: false,
      env: {},
      configDefaults: { log_level: 'silent' },
      models: { chat: scriptedModel('a reply of 24 characters') },
      providers: [
        { token: EVENT_SOURCE, useValue: new HeldSource([line(0, 'goal', {}), line(0, 'goal', {})]) },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
        { token: MONITOR, useValue: monitor },
      ],
    });
    const running = app.run();
    for (let tries = 0; tries < 100 && !(await monitor.metrics()).includes('outcome="budget"'); tries++) await new Promise((done) => setTimeout(done, 20));
    await app.stop();
    await running;
    const samples = parseExposition(await monitor.metrics());
    // The first call spends 3 + 6 tokens of the slice's 5: the second is refused.
    expectSamples(samples, {
      'live_crew_model_calls_total{crew="talker",model="chat",outcome="ok"}': 1,
      'live_crew_model_calls_total{crew="talker",model="chat",outcome="budget"}': 1,
      'live_crew_model_tokens_total{crew="talker",model="chat",type="input"}': 3,
      'live_crew_model_tokens_total{crew="talker",model="chat",type="output"}': 6,
      'live_crew_model_call_seconds_count{crew="talker",model="chat"}': 2,
      'live_crew_errors_total{crew="talker",reason="budget"}': 1,
    });
  });
});

describe('PrometheusMonitor: vector searches', () => {
  it('counts searches by crew, collection and outcome and times those the store answered; replayed ones are counted as such', async () => {
    const monitor = new PrometheusMonitor();
    monitor.vectorSearched({ crew: 'finder', collection: 'moments', outcome: 'ok', hits: 3, seconds: 0.004 });
    monitor.vectorSearched({ crew: 'finder', collection: 'moments', outcome: 'replayed', hits: 3, seconds: 0 });
    monitor.vectorSearched({ crew: 'finder', collection: 'moments', outcome: 'error', hits: 0, seconds: 0.002 });
    const samples = parseExposition(await monitor.metrics());
    expectSamples(samples, {
      'live_crew_vector_searches_total{crew="finder",collection="moments",outcome="ok"}': 1,
      'live_crew_vector_searches_total{crew="finder",collection="moments",outcome="replayed"}': 1,
      'live_crew_vector_searches_total{crew="finder",collection="moments",outcome="error"}': 1,
      'live_crew_vector_search_seconds_count{crew="finder",collection="moments"}': 2,
    });
  });
});
