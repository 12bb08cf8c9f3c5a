import { connect } from '@nats-io/transport-node';
import { DashboardFeed } from '../../src/adapters/dashboard/dashboard-feed.js';
import { followStream } from '../../src/adapters/dashboard/nats-stream-view.js';
import { systemClock, type Logger } from '../../src/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { DashboardView } from '../../src/adapters/dashboard/dashboard-view.js';
import { readFileSync } from 'node:fs';
import { MATCH_DAY_CREWS, MATCH_DAY_EVENTS, MATCH_DAY_STREAM, publishMatchDay, startCli, startRunner, startScheduler, stopAll, waitUntil, type CliProcess } from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';
import { ensureLiveStreams } from '../../src/adapters/nats/jetstream-streams.js';

const start = natsServer();

/** The dashboard's view at `url`. */
async function viewAt(url: string): Promise<DashboardView> {
  return (await (await fetch(new URL('api/view', url))).json()) as DashboardView;
}

describe.skipIf(start === undefined)('live-crew dev --stream: the dashboard of a distributed stream, read-only over NATS', () => {
  const server = serverForSuite(start!);
  const processes: CliProcess[] = [];
  afterAll(() => stopAll(processes));

  it("shows the scheduler's and runners' work as it happens: context, actions with their crews, the malformed card's error, runners heard", async () => {
    const url = server().url;
    const viewer = startCli(['dev', '--stream', MATCH_DAY_STREAM, '--nats-url', url, '--crews', MATCH_DAY_CREWS, '--port', '0']);
    processes.push(viewer);
    await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(viewer.stderr()), 'the viewer to serve its dashboard');
    const page = /live-crew dashboard: (http:\S+)/.exec(viewer.stderr())![1]!;
    // Before anything runs: the crews of --crews, all idle, and no stream.
    const before = await viewAt(page);
    expect(before).toMatchObject({ mode: 'viewer', streams: [] });
    expect(before.crews.map((c) => c.id)).toContain('referee_watch');

    publishMatchDay(url);
    const scheduler = startScheduler(url);
    processes.push(scheduler, startRunner(url, '.*'));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await waitUntil(async () => (await viewAt(page)).counts.actions === 36, 'the viewer to see all 36 actions');

    const view = await viewAt(page);
    const [stream] = view.streams;
    expect(stream).toMatchObject({ id: MATCH_DAY_STREAM, events: 4699 });
    expect(stream!.context['score']).toEqual({ home: 3, away: 2 });
    expect(stream!.slices.every((s) => s.state === 'closed')).toBe(true);
    expect(view.actions.filter((a) => a.kind === 'overlay').map((a) => a.crew)).toEqual(['graphics', 'graphics', 'graphics', 'graphics', 'graphics']);
    expect(view.errors).toEqual([expect.objectContaining({ reason: 'handler_error', crew: 'referee_watch', source: expect.stringMatching(/^nats:live\.match_42\.events#\d+$/) })]);
    const crew = (id: string) => view.crews.find((c) => c.id === id)!;
    expect(crew('referee_watch')).toMatchObject({ errors: 1, errorStreak: null, status: 'idle', inFlight: 0 });
    expect(crew('graphics')).toMatchObject({ actions: 5, status: 'idle' });
    expect(view.runners).toEqual([{ name: expect.stringMatching(/^runner \//), silent: false }]);

    // A viewer opened on the finished stream shows it as it ended: its stored events, actions and
    // errors, every slice closed, and its context as of the end of its last slice.
    const late = startCli(['dev', '--stream', MATCH_DAY_STREAM, '--nats-url', url, '--crews', MATCH_DAY_CREWS, '--port', '0']);
    processes.push(late);
    await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(late.stderr()), 'the late viewer to serve its dashboard');
    const latePage = /live-crew dashboard: (http:\S+)/.exec(late.stderr())![1]!;
    await waitUntil(async () => (await viewAt(latePage)).counts.events === 4699 && (await viewAt(latePage)).counts.actions === 36, 'the late viewer to read the stored stream');
    const after = await viewAt(latePage);
    expect(after.counts).toMatchObject({ events: 4699, actions: 36, errors: 1 });
    const [ended] = after.streams;
    expect(ended!.slices.filter((s) => s.state === 'open')).toEqual([]);
    // The slices it keeps, as the viewer that watched the run saw them (bar which changed the context).
    const counted = (slices: typeof ended.slices) => slices.map(({ slice, state, events, actions, errors }) => ({ slice, state, events, actions, errors }));
    expect(counted(ended!.slices)).toEqual(counted(stream!.slices));
    expect(ended!.context['score']).toEqual({ home: 3, away: 2 });
    const lastSlice = Math.max(...stream!.slices.map((s) => s.slice));
    expect(ended!.lastChange?.slice).toBe(lastSlice);
    // As of the end of the last slice, the one holding the last event (slices of 1 s).
    const lastEvent = Date.parse((JSON.parse(readFileSync(MATCH_DAY_EVENTS, 'utf8').trimEnd().split('\n').at(-1)!) as { ts: string }).ts);
    const asOf = Date.parse(ended!.lastChange!.ts);
    expect(asOf > lastEvent && asOf <= lastEvent + 1000, ended!.lastChange!.ts).toBe(true);
  });

  it('skips what it cannot read, saying so once per subject, and goes on with what follows', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (_fields, message) => void warnings.push(message), error: () => {}, child: () => logger };
    const nc = await connect({ servers: server().url });
    // The stored subjects are read from their JetStream streams, which a run would have made.
    await ensureLiveStreams(nc);
    const feed = new DashboardFeed({ mode: 'viewer', title: 'garbage' });
    const unfollow = await followStream(nc, 'garbage', feed, { heartbeatMs: 1000, sliceMs: 1000, clock: systemClock, logger });
    try {
      const action = JSON.stringify({ ts: '2024-05-01T12:00:00.000Z', kind: 'overlay', stream_id: 'garbage', payload: { team: 'home' }, ttl_ms: 5000 });
      for (const [subject, data] of [
        ['live.garbage.actions', 'not json {'],
        ['live.garbage.actions', '{"kind":"overlay"}'],
        ['live.garbage.ctx', '{"kind":"__context","payload":{"slice":"x"}}'],
        ['live.garbage.events', '{"ts":"yesterday"}'],
        ['live.garbage.slice.3.graphics.done', '[]'],
      ] as const) {
        nc.publish(subject, data);
      }
      nc.publish('live.garbage.actions', action);
      nc.publish('live.garbage.events', JSON.stringify({ ts: '2024-05-01T12:00:00Z', kind: 'goal', stream_id: 'garbage' }));
      await nc.flush();
      await waitUntil(() => feed.view().counts.actions === 1 && feed.view().counts.events === 1, 'the valid messages after the garbage');
      expect(feed.view().actions[0]).toMatchObject({ kind: 'overlay', payload: { team: 'home' } });
      // Stored subjects and core NATS are read apart: in no set order between them.
      expect(warnings.sort()).toEqual([
        'dashboard: a message on live.garbage.actions is not what live-crew publishes there; such messages are skipped',
        'dashboard: a message on live.garbage.ctx is not what live-crew publishes there; such messages are skipped',
        'dashboard: a message on live.garbage.events is not what live-crew publishes there; such messages are skipped',
        'dashboard: a message on live.garbage.slice.3.graphics.done is not what live-crew publishes there; such messages are skipped',
      ]);
    } finally {
      unfollow();
      await nc.close();
    }
  });

  it('leaves nothing on the server: no stream or bucket of its own, and its readers go when it stops', async () => {
    const nc = await connect({ servers: server().url });
    const names = async (api: string) => await nc.request(`$JS.API.${api}`, '{}').then((m) => m.json<{ streams?: string[] | null; consumers?: string[] | null }>());
    try {
      await ensureLiveStreams(nc);
      const before = await names('STREAM.NAMES');
      const readers = ['LIVE_EVENTS', 'LIVE_ACTIONS', 'LIVE_ERRORS'];
      const consumers = async () => new Set((await Promise.all(readers.map(async (stream) => (await names(`CONSUMER.NAMES.${stream}`)).consumers ?? []))).flat());
      const others = await consumers();
      const viewer = startCli(['dev', '--stream', 'nothing_here', '--nats-url', server().url, '--port', '0']);
      processes.push(viewer);
      await waitUntil(() => viewer.stderr().includes('live-crew dashboard:'), 'the viewer to serve its dashboard');
      await waitUntil(async () => [...(await consumers())].filter((name) => !others.has(name)).length === 3, 'the viewer reading the stored events, actions and errors');
      expect((await names('STREAM.NAMES')).streams).toEqual(before.streams);
      viewer.child.kill('SIGTERM');
      expect(await viewer.exited).toBe(0);
      expect([...(await consumers())].filter((name) => !others.has(name))).toEqual([]);
    } finally {
      await nc.close();
    }
  });
});
