import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ACTION_SINK, createLiveCrewApp, Crew, ERROR_SINK, EVENT_SOURCE, LIVE_CREW_CONFIG, LOGGER, OnEvent, type CrewContext, type Event, type Logger, type LogFields } from '../../src/index.js';
import { pinoLogger } from '../../src/embedded.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, ManualClock } from '../../src/testing.js';
import { Heartbeat } from '../../src/framework/runtime/heartbeat.js';
import { HeartbeatWatch, MAX_WATCHED } from '../../src/framework/runtime/heartbeat-watch.js';

/** A pino destination keeping each JSON line. */
function capture(): { lines: Record<string, unknown>[]; destination: Writable } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

@Crew({ id: 'echo' })
class Echo {
  @OnEvent('*')
  on(event: Event, ctx: CrewContext): void {
    ctx.emit('echo', { kind: event.kind });
  }
}

describe('pino logs', () => {
  it('writes JSON lines with ts, level, msg and the fields stream, slice, crew, t_ms; below the level nothing', () => {
    const { lines, destination } = capture();
    const logger = pinoLogger({ level: 'info', destination });
    logger.child({ stream: 'm1' }).info({ slice: 4, crew: 'scorer', t_ms: 12 }, 'slice merged');
    logger.debug({}, 'not shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({ level: 'info', ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), stream: 'm1', slice: 4, crew: 'scorer', t_ms: 12, msg: 'slice merged' });
    expect(Object.keys(lines[0]!).slice(0, 2)).toEqual(['level', 'ts']);
  });

  it('an app logs its start and its summary with t_ms, at the configured level', async () => {
    const { lines, destination } = capture();
    const app = await createLiveCrewApp({
      crews: [Echo],
      configFile: false,
      env: { LIVE_CREW_LOG_LEVEL: 'info' },
      providers: [
        { token: EVENT_SOURCE, useValue: new ArrayEventSource([{ ts: '2024-01-01T00:00:00Z', kind: 'a', stream_id: 's' }]) },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
        { token: LOGGER, useFactory: (c) => pinoLogger({ level: c.resolve(LIVE_CREW_CONFIG).log_level, destination }) },
      ],
    });
    await app.run();
    expect(lines.map((line) => line['msg'])).toEqual(['run started', 'run finished']);
    expect(lines[1]).toMatchObject({ level: 'info', events: 1, actions: 1, errors: 0, t_ms: expect.any(Number) });
  });
});

/** A logger that keeps every line as `[level, fields, message]`. */
function recordingLogger(): { logged: Array<[string, LogFields, string]>; logger: Logger } {
  const logged: Array<[string, LogFields, string]> = [];
  const logger: Logger = {
    debug: (f, m) => logged.push(['debug', f, m]),
    info: (f, m) => logged.push(['info', f, m]),
    warn: (f, m) => logged.push(['warn', f, m]),
    error: (f, m) => logged.push(['error', f, m]),
    child: () => logger,
  };
  return { logged, logger };
}

describe('Heartbeat', () => {
  it('beats, and reports a gap of more than 3 beats as an error and to the monitor', () => {
    const clock = new ManualClock(0);
    const { logged, logger } = recordingLogger();
    const beats: number[] = [];
    const gaps: number[] = [];
    const heartbeat = new Heartbeat({ intervalMs: 1000, clock, logger, monitor: { close: async () => undefined, heartbeatGap: (ms) => gaps.push(ms) }, beat: (seq) => beats.push(seq) });
    heartbeat.start();
    clock.advance(1000);
    heartbeat.tick();
    clock.advance(3000);
    heartbeat.tick();
    clock.advance(3500);
    heartbeat.tick();
    heartbeat.stop();
    expect(beats).toEqual([1, 2, 3]);
    expect(gaps).toEqual([3500]);
    expect(logged).toEqual([['error', { t_ms: 3500 }, 'heartbeat gap: 3500 ms since the last beat (more than 3 beats of 1000 ms)']]);
  });
});

describe('HeartbeatWatch', () => {
  it('reports a process silent for more than 3 beats once, and when it beats again; one never heard is not missed', () => {
    const clock = new ManualClock(0);
    const { logged, logger } = recordingLogger();
    const reports: Array<[string, boolean]> = [];
    const watch = new HeartbeatWatch({ intervalMs: 1000, clock, logger, observer: { runnerSilent: (runner, silent) => reports.push([runner, silent]) } });
    watch.beat('runner /a/');
    watch.beat('runner /b/');
    clock.advance(3000);
    watch.beat('runner /b/');
    watch.check();
    expect(reports).toEqual([]);
    clock.advance(1001);
    watch.check();
    watch.check();
    expect(reports).toEqual([['runner /a/', true]]);
    clock.advance(500);
    watch.beat('runner /a/');
    expect(reports).toEqual([
      ['runner /a/', true],
      ['runner /a/', false],
    ]);
    expect(logged).toEqual([
      ['info', { process: 'runner /a/' }, 'runner /a/ beats: watched from now on (silent after more than 3 beats)'],
      ['info', { process: 'runner /b/' }, 'runner /b/ beats: watched from now on (silent after more than 3 beats)'],
      ['error', { process: 'runner /a/', t_ms: 4001 }, "runner /a/ has sent no heartbeat for 4001 ms (more than 3 beats): is it running? its crews' slices wait for it"],
      ['info', { process: 'runner /a/', t_ms: 4501 }, 'runner /a/ beats again, after 4501 ms of silence'],
    ]);
  });

  it(`watches at most ${MAX_WATCHED} processes: a flood of made-up names is turned away, said once`, () => {
    const clock = new ManualClock(0);
    const { logged, logger } = recordingLogger();
    const reports: Array<[string, boolean]> = [];
    const watch = new HeartbeatWatch({ intervalMs: 1000, clock, logger, observer: { runnerSilent: (runner, silent) => reports.push([runner, silent]) } });
    for (let i = 0; i < 10_000; i++) watch.beat(`runner /made-up-${i}/`);
    clock.advance(5000);
    watch.check();
    expect(reports).toHaveLength(MAX_WATCHED);
    expect(logged.filter(([level]) => level === 'warn')).toEqual([['warn', { process: `runner /made-up-${MAX_WATCHED}/` }, expect.stringMatching(/^64 processes are watched already/)]]);
  });
});
