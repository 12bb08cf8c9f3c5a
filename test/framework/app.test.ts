import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ACTION_SINK, CONTEXT_BACKEND, ConfigError, ConnectionError, Crew, createLiveCrewApp, ERROR_SINK, EVENT_SOURCE, OnEvent, type CrewContext, type Event } from '../../src/index.js';
import { FileEventSource, MemoryContextBackend } from '../../src/embedded.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, createTestingApp } from '../../src/testing.js';

@Crew({ id: 'echo' })
class Echo {
  @OnEvent('*')
  on(event: Event, ctx: CrewContext): void {
    ctx.emit('echo', { kind: event.kind });
  }
}

const dir = () => mkdtempSync(join(tmpdir(), 'live-crew-app-'));
const ev = (ms: number, kind = 'tick', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + ms).toISOString(), kind, stream_id: 'm1', payload: {}, ...extra });

/** An app reading the given stream as stdin, with collecting sinks. */
async function stdinApp(stdin: PassThrough) {
  const sinks = collecting();
  const app = await createLiveCrewApp({
    crews: [Echo],
    configFile: false,
    env: {},
    providers: [{ token: EVENT_SOURCE, useValue: new FileEventSource('-', { stdin }) }, ...sinks.providers],
  });
  return { app, sinks };
}

function collecting() {
  const actions = new CollectingActionSink();
  const errors = new CollectingErrorSink();
  return {
    actions,
    errors,
    providers: [
      { token: ACTION_SINK, useValue: actions },
      { token: ERROR_SINK, useValue: errors },
    ],
  };
}

/** Emits one 60 KB action per event. */
@Crew({ id: 'bulky' })
class Bulky {
  @OnEvent('*')
  on(_event: Event, ctx: CrewContext): void {
    ctx.emit('bulk', { text: 'x'.repeat(60_000) });
  }
}

describe('createLiveCrewApp', () => {
  it("hands a batch's output to the sink in parts once it grows large, so memory stays bounded", async () => {
    const writes: number[] = [];
    const actions = { write: (batch: readonly unknown[]) => void writes.push(batch.length), close: async () => undefined };
    const events = Array.from({ length: 300 }, (_, i) => ev(i));
    const app = await createLiveCrewApp({
      crews: [Bulky],
      configFile: false,
      env: {},
      providers: [
        { token: EVENT_SOURCE, useValue: new ArrayEventSource(events) },
        { token: ACTION_SINK, useValue: actions },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      ],
    });
    await app.run();
    // One input batch of 300 (18 MB of actions), written in parts of about 4 MB.
    expect(writes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(writes.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...writes)).toBeLessThan(100);
  });

  it('makes scheduler: nats one worker of a pool, which needs its server: none there fails at once, naming it', async () => {
    const app = createLiveCrewApp({ crews: [Echo], configFile: false, env: { LIVE_CREW_SCHEDULER: 'nats', LIVE_CREW_NATS_URL: 'nats://127.0.0.1:1' } });
    await expect(app).rejects.toThrow(ConnectionError);
    await expect(app).rejects.toThrow(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it('reports each malformed line with file:line and processes every good one', async () => {
    const input = join(dir(), 'events.jsonl');
    writeFileSync(
      input,
      [
        ev(0),
        '{"ts": oops',
        JSON.stringify({ kind: 'tick', stream_id: 'm1' }),
        ev(10, '__context'),
        ev(20, 'tick', { ts: '2024-05-01 12:00' }),
        ev(30, 'tick', { payload: { blob: 'x'.repeat(300) } }),
        ev(40, 'tick', { stream_id: 'bad stream' }),
        ev(50),
      ].join('\n'),
    );
    const sinks = collecting();
    const app = await createLiveCrewApp({ crews: [Echo], providers: sinks.providers, configFile: false, env: {}, config: { input, payload_max_bytes: 256 } });
    const summary = await app.run();

    expect(sinks.actions.actions).toHaveLength(2);
    const invalid = sinks.errors.errors.map((e) => [e.payload.source, e.payload.message]);
    expect(invalid).toEqual([
      [`${input}:2`, expect.stringMatching(/^not valid JSON/)],
      [`${input}:3`, expect.stringMatching(/ts: is required/)],
      [`${input}:4`, expect.stringMatching(/kind "__context" is reserved/)],
      [`${input}:5`, expect.stringMatching(/ts: must be an ISO-8601/)],
      [`${input}:6`, expect.stringMatching(/payload is \d+ bytes, over the limit of 256/)],
      [`${input}:7`, expect.stringMatching(/stream_id: must match/)],
    ]);
    expect(sinks.errors.errors.every((e) => e.payload.reason === 'invalid_event' && typeof e.payload.input === 'string')).toBe(true);
    // An error belongs to the stream its input names, when that is valid; its time is the last good event's.
    expect(sinks.errors.errors[1]).toMatchObject({ stream_id: 'm1', ts: '2024-05-01T12:00:00.000Z' });
    expect(sinks.errors.errors[5]).toMatchObject({ stream_id: '_unknown' });
    expect(summary).toMatchObject({ events: 2, invalid: 6, actions: 2, errors: 6, slices: 1 });
  });

  it('reports late events with the event attached', async () => {
    const input = join(dir(), 'events.jsonl');
    writeFileSync(input, [ev(0), ev(1000), ev(100)].join('\n'));
    const sinks = collecting();
    const summary = await (await createLiveCrewApp({ crews: [Echo], providers: sinks.providers, configFile: false, env: {}, config: { input } })).run();
    expect(sinks.errors.errors).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ reason: 'late_event', slice: 0, source: `${input}:3`, event: JSON.parse(ev(100)) }),
      }),
    ]);
    expect(summary.errorsByReason.late_event).toBe(1);
  });

  it('writes actions and errors to the files the config names', async () => {
    const d = dir();
    const input = join(d, 'in.jsonl');
    writeFileSync(input, [ev(0), 'junk'].join('\n'));
    const app = await createLiveCrewApp({ crews: [Echo], configFile: false, env: {}, config: { input, output: join(d, 'out.jsonl'), errors: join(d, 'err.jsonl') } });
    await app.run();
    expect(readFileSync(join(d, 'out.jsonl'), 'utf8')).toBe('{"ts":"2024-05-01T12:00:00.000Z","kind":"echo","stream_id":"m1","payload":{"kind":"tick"},"ttl_ms":5000}\n');
    expect(JSON.parse(readFileSync(join(d, 'err.jsonl'), 'utf8'))).toMatchObject({ payload: { reason: 'invalid_event', source: `${input}:2` } });
  });

  it('takes settings from the config file and LIVE_CREW_ env vars, code winning', async () => {
    const d = dir();
    const configFile = join(d, 'live-config.yaml');
    writeFileSync(configFile, 'slice_ms: 100\nlateness_ms: 50\n');
    const app = await createLiveCrewApp({ crews: [Echo], configFile, env: { LIVE_CREW_LATENESS_MS: '70', LIVE_CREW_SLICE_MS: '200' }, config: { slice_ms: 300 } });
    expect(app.config).toMatchObject({ slice_ms: 300, lateness_ms: 70 });
  });

  it("<crew_id>.runtime.yaml beside the config overrides the crew's @Crew knobs", async () => {
    @Crew({ id: 'brittle', maxErrors: 3 })
    class Brittle {
      @OnEvent('*')
      on(): void {
        throw new Error('no');
      }
    }
    const d = dir();
    const input = join(d, 'events.jsonl');
    writeFileSync(input, [ev(0), ev(10), ev(20)].join('\n'));
    writeFileSync(join(d, 'live-config.yaml'), 'slice_ms: 500\n');
    writeFileSync(join(d, 'brittle.runtime.yaml'), 'maxErrors: 1\n');
    writeFileSync(join(d, 'other_crew.runtime.yaml'), 'notAKnob: 1\n'); // another app's crew: left alone
    const sinks = collecting();
    const app = await createLiveCrewApp({ crews: [Brittle], providers: sinks.providers, configFile: join(d, 'live-config.yaml'), env: {}, config: { input } });
    const summary = await app.run();
    expect(summary.errorsByReason).toMatchObject({ handler_error: 1, disabled: 1 });
  });

  it('stops at start-up on a bad runtime.yaml, naming file and key', async () => {
    const d = dir();
    writeFileSync(join(d, 'live-config.yaml'), '');
    writeFileSync(join(d, 'echo.runtime.yaml'), 'sliceStride: 0\nretries: 2\n');
    const attempt = createLiveCrewApp({ crews: [Echo], configFile: join(d, 'live-config.yaml'), env: {} });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(createLiveCrewApp({ crews: [Echo], configFile: join(d, 'live-config.yaml'), env: {} })).rejects.toThrow(
      new RegExp(
        `invalid configuration in ${join(d, 'echo.runtime.yaml')}:\n  sliceStride \\(line 1\\): must be > 0 \\(got 0\\)\n  retries \\(line 2\\): unknown key \\(known keys: maxErrors, waitPolicy, sliceStride, .*, max_errors, wait_policy, slice_stride, .*, crew, triggers, needs\\)`,
      ),
    );
  });

  it('stops at start-up on bad config, before anything runs', async () => {
    await expect(createLiveCrewApp({ crews: [Echo], configFile: false, env: { LIVE_CREW_SLICE_MS: '0' } })).rejects.toThrow(ConfigError);
  });

  it('lets providers replace any port adapter', async () => {
    const stdin = new PassThrough();
    stdin.end(`${ev(0)}\n`);
    const { app, sinks } = await stdinApp(stdin);
    await app.run();
    expect(sinks.actions.actions.map((a) => a.kind)).toEqual(['echo']);
  });

  it('stop() ends a run waiting on live input: in-flight work finishes, slices close, adapters close', async () => {
    const stdin = new PassThrough();
    const { app } = await stdinApp(stdin);
    const running = app.run();
    stdin.write(`${ev(0)}\n${ev(10)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await app.stop();
    const summary = await running;
    expect(summary).toMatchObject({ events: 2, actions: 2, slices: 1 });
    expect(() => app.run()).toThrow(/already run/);
  });

  it('counts the run in its summary', async () => {
    const input = join(dir(), 'events.jsonl');
    writeFileSync(input, [ev(0, 'a'), ev(600, 'b', { stream_id: 'm2' }), ev(700, 'c')].join('\n'));
    const sinks = collecting();
    const summary = await (await createLiveCrewApp({ crews: [Echo], providers: sinks.providers, configFile: false, env: {}, config: { input } })).run();
    expect(summary).toMatchObject({ events: 3, invalid: 0, actions: 3, errors: 0, slices: 3 });
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('createLiveCrewApp: timestamps and restarts (issue 10)', () => {
  @Crew({ id: 'counter' })
  class Counter {
    @OnEvent('*')
    on(event: Event, ctx: CrewContext): void {
      const n = (ctx.context.get<number>('n') ?? 0) + 1;
      ctx.context.set('n', n);
      ctx.emit('count', { n, slice: ctx.slice, kind: event.kind });
    }
  }
  const at = (iso: string, kind = 'tick') => ({ ts: iso, kind, stream_id: 'm1', payload: {} });

  it('refuses one event stamped 9999-12-31 and processes the rest of its stream as if it were not there', async () => {
    const events = [at('2024-05-01T12:00:00.000Z'), at('9999-12-31T00:00:00.000Z', 'poison'), 'not json', at('2024-05-01T12:00:00.600Z'), at('2024-05-01T12:00:01.200Z')];
    const clean = await (await createTestingApp({ crews: [Counter] })).run(events.filter((e) => typeof e === 'object' && e.kind !== 'poison'));
    const r = await (await createTestingApp({ crews: [Counter] })).run(events);
    expect(r.actions).toEqual(clean.actions);
    // Both records carry the stream's own time, never the bad clock's.
    expect(r.errors.map((e) => [e.ts, e.payload.reason, e.payload.event?.kind, e.payload.message])).toEqual([
      ['2024-05-01T12:00:00.000Z', 'invalid_event', undefined, expect.stringMatching(/^not valid JSON/)],
      ['2024-05-01T12:00:00.000Z', 'invalid_event', 'poison', expect.stringMatching(/over max_jump_ms 3600000, and no later event confirmed the jump/)],
    ]);
  });

  it("a restarted app on the same backend goes on with the stream's epoch0 and context, not from slice 0", async () => {
    const backend = new MemoryContextBackend();
    const run = async (events: unknown[]) => (await createTestingApp({ crews: [Counter], providers: [{ token: CONTEXT_BACKEND, useValue: backend }] })).run(events);
    await run([at('2024-05-01T12:00:00.000Z'), at('2024-05-01T12:00:00.600Z')]);
    const second = await run([at('2024-05-01T12:00:01.200Z')]);
    expect(second.actions.map((a) => a.payload)).toEqual([{ n: 3, slice: 2, kind: 'tick' }]);
    // The second run's end closed slice 2: its slices are merged and stay so.
    const third = await run([at('2024-05-01T12:00:01.300Z'), at('2024-05-01T12:00:01.700Z')]);
    expect(third.actions.map((a) => a.payload)).toEqual([{ n: 4, slice: 3, kind: 'tick' }]);
    expect(third.errors.map((e) => [e.payload.reason, e.payload.slice])).toEqual([['late_event', 2]]);
  });
});
