import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveCrewApp, Crew, OnEvent, type CrewContext, type Event } from '../../src/index.js';
import { ensureLiveStreams } from '../../src/nats.js';
import { createTestingApp } from '../../src/testing.js';
import { natsServer, type TestServer } from './servers.js';

const start = natsServer();
const startWithoutJetStream = natsServer({ jetstream: false });

@Crew({ id: 'scorer' })
class Scorer {
  @OnEvent('goal')
  on(event: Event<{ team: string }>, ctx: CrewContext): void {
    const goals = (ctx.context.get<number>(event.payload.team) ?? 0) + 1;
    ctx.context.set(event.payload.team, goals);
    ctx.emit('score', { team: event.payload.team, goals });
  }
}

const T0 = Date.parse('2024-05-18T15:00:00Z');
const goal = (ms: number, team: string) => JSON.stringify({ ts: new Date(T0 + ms).toISOString(), kind: 'goal', stream_id: 'm1', payload: { team } });
const INPUT = [goal(0, 'home'), goal(300, 'away'), '{"oops": ', goal(900, 'home'), goal(1500, 'home')];

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(start === undefined)('JetStream transport against a real nats-server -js', () => {
  let server: TestServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await start!();
    nc = await connect({ servers: server.url });
    await ensureLiveStreams(nc);
    for (const line of INPUT) await jetstream(nc).publish('live.m1.events', line);
  });
  afterAll(async () => {
    await nc.close();
    await server.stop();
  });

  /** The stored messages of a stream, in order. */
  async function stored(stream: string): Promise<string[]> {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const out: string[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) out.push((await jsm.streams.getMessage(stream, { seq }))!.string());
    return out;
  }

  async function runOverNats(durable: string, expectedActions: number) {
    const app = await createLiveCrewApp({ crews: [Scorer], configFile: false, env: {}, config: { transport: 'nats', nats_url: server.url, nats_consumer: durable, mode: 'live' } });
    const running = app.run();
    await until(async () => ((await stored('LIVE_ACTIONS')).length >= expectedActions ? true : undefined), `${expectedActions} actions`);
    await app.stop();
    return running;
  }

  it('consumes live.<stream>.events and publishes the same actions as the in-process run, errors to live.<stream>.errors', async () => {
    const inProcess = await (await createTestingApp({ crews: [Scorer] })).run(INPUT);
    const summary = await runOverNats('first', inProcess.actions.length);
    const actions = (await stored('LIVE_ACTIONS')).map((line) => JSON.parse(line));
    expect(actions).toEqual(inProcess.actions);
    expect(summary).toMatchObject({ events: 4, invalid: 1 });
    const errors = (await stored('LIVE_ERRORS')).map((line) => JSON.parse(line) as { payload: { reason: string; source: string } });
    expect(errors).toEqual([expect.objectContaining({ payload: expect.objectContaining({ reason: 'invalid_event', source: 'nats:live.m1.events#3' }) })]);
  });

  it('a re-run of the same events stores no action twice: ids de-duplicate', async () => {
    const before = await stored('LIVE_ACTIONS');
    const app = await createLiveCrewApp({ crews: [Scorer], configFile: false, env: {}, config: { transport: 'nats', nats_url: server.url, nats_consumer: 'second', mode: 'live' } });
    const running = app.run();
    const jsm = await jetstreamManager(nc);
    await until(async () => ((await jsm.consumers.info('LIVE_EVENTS', 'second').catch(() => undefined))?.ack_floor.stream_seq === INPUT.length ? true : undefined), 'all events acknowledged');
    await app.stop();
    const summary = await running;
    expect(summary.events).toBe(4);
    expect(await stored('LIVE_ACTIONS')).toEqual(before);
  });

  it("refuses an event naming another stream than its subject's, naming the subject it came on", async () => {
    const forged = JSON.stringify({ ts: new Date(T0).toISOString(), kind: 'goal', stream_id: 'm1', payload: { team: 'away' } });
    const { seq } = await jetstream(nc).publish('live.m0.events', forged);
    const app = await createLiveCrewApp({ crews: [Scorer], configFile: false, env: {}, config: { transport: 'nats', nats_url: server.url, nats_consumer: 'forged', mode: 'live' } });
    const running = app.run();
    const errorOf = async () =>
      (await stored('LIVE_ERRORS'))
        .map((line) => JSON.parse(line) as { stream_id: string; payload: { reason: string; source: string; message: string } })
        .find((e) => e.payload.source === `nats:live.m0.events#${seq}`);
    const error = await until(errorOf, "the forged event's error record");
    await app.stop();
    await running;
    expect(error).toMatchObject({
      stream_id: 'm1',
      payload: { reason: 'invalid_event', message: 'event names stream "m1" but came in on nats:live.m0.events: a stream\'s events must be published on its own subject (live.m1.events)' },
    });
    expect((await stored('LIVE_ACTIONS')).filter((line) => line.includes('"away"') && line.includes('"goals":2'))).toEqual([]);
  });

  it('reports a poison message (2,000 levels deep) and acknowledges it: no crash, no redelivery loop', async () => {
    const deep = `{"ts":"${new Date(T0).toISOString()}","kind":"goal","stream_id":"m1","payload":${'['.repeat(2000)}${']'.repeat(2000)}}`;
    const { seq } = await jetstream(nc).publish('live.m1.events', deep);
    const app = await createLiveCrewApp({ crews: [Scorer], configFile: false, env: {}, config: { transport: 'nats', nats_url: server.url, nats_consumer: 'poison', mode: 'live' } });
    const running = app.run();
    const jsm = await jetstreamManager(nc);
    await until(async () => (((await jsm.consumers.info('LIVE_EVENTS', 'poison').catch(() => undefined))?.ack_floor.stream_seq ?? 0) >= seq ? true : undefined), 'the poison message acknowledged');
    await app.stop();
    await running;
    const errors = (await stored('LIVE_ERRORS')).map((line) => JSON.parse(line) as { payload: { reason: string; source: string; message: string } });
    expect(errors.find((e) => e.payload.source === `nats:live.m1.events#${seq}`)?.payload).toMatchObject({ reason: 'invalid_event', message: expect.stringMatching(/nested deeper than 64 levels/) });
  });

  it('refuses a stream that exists with other subjects, naming it', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('LIVE_ERRORS');
    await jsm.streams.add({ name: 'LIVE_ERRORS', subjects: ['elsewhere.>'] });
    await expect(ensureLiveStreams(nc)).rejects.toThrow(/JetStream stream LIVE_ERRORS exists with subjects \["elsewhere.>"\]; live-crew needs live.\*.errors/);
    await jsm.streams.delete('LIVE_ERRORS');
    await ensureLiveStreams(nc);
  });

  it("brings a LIVE_SLICES made by an earlier release (no work subject) up to date, keeping what it holds; one with a subject of another's is refused", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('LIVE_SLICES');
    await jsm.streams.add({ name: 'LIVE_SLICES', subjects: ['live.*.slice.>'] });
    await jetstream(nc).publish('live.m1.slice.3.stats.done', '{"writes":[],"disabled":false}');
    await ensureLiveStreams(nc);
    const info = await jsm.streams.info('LIVE_SLICES');
    expect(info.config.subjects).toEqual(['live.*.work.*', 'live.*.slice.>']);
    expect(info.state.messages).toBe(1);
    await jsm.streams.update('LIVE_SLICES', { ...info.config, subjects: ['live.*.slice.>', 'elsewhere.>'] });
    await expect(ensureLiveStreams(nc)).rejects.toThrow(/JetStream stream LIVE_SLICES exists with subjects \["live.\*.slice.>","elsewhere.>"\]; live-crew needs live.\*.work.\* and live.\*.slice.>/);
    await jsm.streams.delete('LIVE_SLICES');
    await ensureLiveStreams(nc);
  });

  it('sets the retention of the streams a distributed run reads again, on a new stream and on one that exists; a minute shortens the duplicate window to it', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('LIVE_JOURNAL');
    await ensureLiveStreams(nc, { events: 600_000, slices: 60_000, journal: 60_000 });
    const info = async (name: string) => (await jsm.streams.info(name)).config;
    expect(await info('LIVE_EVENTS')).toMatchObject({ max_age: nanos(600_000), duplicate_window: nanos(120_000) });
    expect(await info('LIVE_SLICES')).toMatchObject({ max_age: nanos(60_000), duplicate_window: nanos(60_000) });
    expect(await info('LIVE_JOURNAL')).toMatchObject({ max_age: nanos(60_000), duplicate_window: nanos(60_000) });
    // Outputs are not a distributed run's to expire; no retention given leaves a stream as it is.
    expect((await info('LIVE_ACTIONS')).max_age).toBe(0);
    await ensureLiveStreams(nc);
    expect((await info('LIVE_EVENTS')).max_age).toBe(nanos(600_000));
  });
});

describe.skipIf(startWithoutJetStream === undefined)('JetStream transport against a nats-server without JetStream', () => {
  it('fails with a message that says so', async () => {
    const server = await startWithoutJetStream!();
    const nc = await connect({ servers: server.url });
    try {
      await expect(ensureLiveStreams(nc)).rejects.toThrow(/has no JetStream \(.*\): start nats-server with -js/);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
