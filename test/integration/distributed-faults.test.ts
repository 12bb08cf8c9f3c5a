import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import {
  inProcessOutput,
  MATCH_DAY_STREAM,
  ofKind,
  publishMatchDay,
  startRunner,
  startScheduler,
  stopAll,
  storedCount,
  storedMessages,
  waitUntil,
  withPosition,
  type CliProcess,
} from './distributed-cluster.js';
import { natsServer, type TestServer } from './servers.js';
import { readStoredMessages } from '../../src/adapters/nats/jetstream-reading.js';

const start = natsServer();
const RUNNER_A = 'score_tracker|stats|commentator';
const RUNNER_B = 'graphics|referee_watch|pundit';
/** Actions stored before a fault is injected: well into the match, well before its end. */
const MID_STREAM = 8;

/**
 * The fault tests of DESIGN §5: the match-day crews run distributed (one scheduler, two runners
 * splitting the crews by selector) while a process or the server is killed, and what JetStream
 * holds afterwards must be exactly the in-process output: the same actions, none lost, none
 * twice, each crew's in the same order, and the same error records.
 */
describe.skipIf(start === undefined)('a distributed run over NATS gives the in-process output, through faults', () => {
  let expected: { actions: string[]; errors: string[] };
  let server: TestServer;
  let processes: CliProcess[];
  const track = (p: CliProcess) => {
    processes.push(p);
    return p;
  };

  beforeAll(() => {
    expected = inProcessOutput();
    expect(expected.actions.length).toBeGreaterThan(MID_STREAM * 2);
  });
  beforeEach(async () => {
    server = await start!();
    processes = [];
  });
  afterEach(async () => {
    await stopAll(processes);
    await server.stop();
  });

  async function expectInProcessOutput(): Promise<void> {
    const actions = await storedMessages(server.url, 'LIVE_ACTIONS');
    expect(actions.length, 'actions stored: none lost, none twice').toBe(expected.actions.length);
    expect([...actions].sort()).toEqual([...expected.actions].sort());
    for (const kind of new Set(expected.actions.map((line) => (JSON.parse(line) as { kind: string }).kind))) {
      expect(ofKind(actions, kind), `order of ${kind} actions`).toEqual(ofKind(expected.actions, kind));
    }
    const errors = await storedMessages(server.url, 'LIVE_ERRORS');
    expect(errors.map(withPosition).sort()).toEqual(expected.errors.map(withPosition).sort());
  }

  /** Makes JetStream forget message ids after 100 ms: a re-send after a fault is not de-duplicated by the server. */
  async function shortDuplicateWindow(): Promise<void> {
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    for (const [name, subject] of [
      ['LIVE_ACTIONS', 'live.*.actions'],
      ['LIVE_ERRORS', 'live.*.errors'],
      ['LIVE_SLICES', ['live.*.work.*', 'live.*.slice.>']],
    ] as const) {
      await jsm.streams.add({ name, subjects: typeof subject === 'string' ? [subject] : [...subject], duplicate_window: nanos(100) });
    }
    await nc.close();
  }

  const midStream = () => waitUntil(async () => (await storedCount(server.url, 'LIVE_ACTIONS')) >= MID_STREAM, `${MID_STREAM} actions`);

  it('two runners split the crews by selector: the in-process output', async () => {
    // Every write of the scheduler's checkpoint, as KV publishes it.
    const nc = await connect({ servers: server.url });
    const checkpoints: number[] = [];
    nc.subscribe(`$KV.live_crew_run_${MATCH_DAY_STREAM}.scheduler.checkpoint`, { callback: (_error, message) => void checkpoints.push(message.json<{ slice: number }>().slice) });
    await nc.flush();
    publishMatchDay(server.url);
    const runnerA = track(startRunner(server.url, RUNNER_A));
    const runnerB = track(startRunner(server.url, RUNNER_B));
    const scheduler = track(startScheduler(server.url));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await nc.close();
    await expectInProcessOutput();
    // Written every checkpoint_slices (default 10) slices, not at every commit.
    expect(checkpoints.length).toBeGreaterThan(1);
    for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i]! - checkpoints[i - 1]!).toBeGreaterThanOrEqual(10);
    expect(runnerA.stderr()).toMatch(/hosting commentator, score_tracker, stats/);
    expect(runnerB.stderr()).toMatch(/hosting graphics, pundit, referee_watch/);
  });

  // Runner B hosts the lagging pundit: its restart merges, from the reports, slices whose
  // lagging writes its predecessor had reported.
  it.each([
    ['A', RUNNER_A, RUNNER_B],
    ['B (the lagging crew)', RUNNER_B, RUNNER_A],
  ])('runner %s killed with SIGKILL mid-stream and started again: nothing lost, nothing twice, past the dedup window', async (_name, killed, other) => {
    await shortDuplicateWindow();
    publishMatchDay(server.url);
    const scheduler = track(startScheduler(server.url));
    track(startRunner(server.url, other));
    const runner = track(startRunner(server.url, killed));
    await midStream();
    runner.child.kill('SIGKILL');
    await runner.exited;
    expect(await storedCount(server.url, 'LIVE_ACTIONS')).toBeLessThan(expected.actions.length);
    await new Promise((done) => setTimeout(done, 300));
    track(startRunner(server.url, killed));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await expectInProcessOutput();
  });

  it('a runner killed after publishing and before saving its progress: its successor publishes none of that output again, past the dedup window', async () => {
    await shortDuplicateWindow();
    publishMatchDay(server.url);
    const scheduler = track(startScheduler(server.url));
    const runners = [track(startRunner(server.url, RUNNER_A)), track(startRunner(server.url, RUNNER_B))];
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    for (const runner of runners) expect(await runner.exited, runner.stderr()).toBe(0);
    // The crew that published last loses the progress of its last slice, as if its runner had
    // been killed between that slice's publish and the save counting it.
    const nc = await connect({ servers: server.url });
    const stored = await readStoredMessages(jetstream(nc), 'LIVE_ACTIONS', `live.${MATCH_DAY_STREAM}.actions`, { headersOnly: true });
    const [, lastSlice, call] = stored.at(-1)!.msgID.split(':') as [string, string, string];
    const crew = call.slice(0, call.indexOf('.'));
    const again = stored.filter(({ msgID }) => msgID.startsWith(`${MATCH_DAY_STREAM}:${lastSlice}:${crew}.`));
    const bucket = await new Kvm(nc).open(`live_crew_run_${MATCH_DAY_STREAM}`);
    const progress = (await bucket.get(`crew.${crew}`))!.json<{ doneSlice: number }>();
    expect(progress.doneSlice).toBeGreaterThanOrEqual(Number(lastSlice));
    await bucket.put(`crew.${crew}`, JSON.stringify({ ...progress, doneSlice: Number(lastSlice) - 1, workSeq: 0, published: undefined }));
    await nc.close();
    await new Promise((done) => setTimeout(done, 300));
    const successor = track(startRunner(server.url, `^${crew}$`));
    expect(await successor.exited, successor.stderr()).toBe(0);
    expect(again.length, `${crew}'s actions of slice ${lastSlice}, made again by the successor`).toBeGreaterThan(0);
    await expectInProcessOutput();
  });

  it('nats-server stopped and restarted mid-stream: every process rides it out', async () => {
    publishMatchDay(server.url);
    const scheduler = track(startScheduler(server.url));
    track(startRunner(server.url, RUNNER_A));
    track(startRunner(server.url, RUNNER_B));
    await midStream();
    await server.stop();
    await new Promise((done) => setTimeout(done, 500));
    await server.start();
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await expectInProcessOutput();
  });

  it('retention: the leader killed and what came before its checkpoint dropped, a successor goes on from the checkpoint and finishes', async () => {
    await shortDuplicateWindow();
    const retentionMs = 600_000;
    const env = {
      LIVE_CREW_LEASE_MS: '1000',
      LIVE_CREW_CHECKPOINT_SLICES: '1',
      LIVE_CREW_EVENTS_RETENTION_MS: String(retentionMs),
      LIVE_CREW_SLICES_RETENTION_MS: String(retentionMs),
      LIVE_CREW_JOURNAL_RETENTION_MS: String(retentionMs),
    };
    const leader = track(startScheduler(server.url, env));
    await waitUntil(() => /scheduling stream/.test(leader.stderr()), 'the leader');
    track(startRunner(server.url, RUNNER_A));
    track(startRunner(server.url, RUNNER_B));
    publishMatchDay(server.url);
    await midStream();
    leader.child.kill('SIGKILL');
    await leader.exited;

    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      for (const name of ['LIVE_EVENTS', 'LIVE_SLICES', 'LIVE_JOURNAL']) expect((await jsm.streams.info(name)).config.max_age, `${name} max_age`).toBe(nanos(retentionMs));
      const kv = await new Kvm(nc).open(`live_crew_run_${MATCH_DAY_STREAM}`);
      const checkpoint = (await kv.get('scheduler.checkpoint'))!.json<{ slice: number; reportsFrom: number; engine: { position: number; accepted: number } }>();
      expect(checkpoint.slice, 'a checkpoint mid-stream').toBeGreaterThan(0);
      // As retention would: the events up to the checkpoint's position, the reports before its
      // sequence, and the ticks journaled before its count are gone.
      await jsm.streams.purge('LIVE_EVENTS', { seq: checkpoint.engine.position + 1 });
      await jsm.streams.purge('LIVE_SLICES', { filter: `live.${MATCH_DAY_STREAM}.slice.*.*.done`, seq: checkpoint.reportsFrom });
      const journal = await jsm.streams.info('LIVE_JOURNAL');
      for (let seq = journal.state.first_seq; seq <= journal.state.last_seq; seq++) {
        const key = (await jsm.streams.getMessage('LIVE_JOURNAL', { seq }).catch(() => undefined))?.string();
        const count = /^tick:(\d+):/.exec(key ?? '')?.[1];
        if (count !== undefined && Number(count) < checkpoint.engine.accepted) await jsm.streams.deleteMessage('LIVE_JOURNAL', seq);
      }
      expect((await jsm.streams.info('LIVE_EVENTS')).state.first_seq).toBe(checkpoint.engine.position + 1);
    } finally {
      await nc.close();
    }

    const successor = track(startScheduler(server.url, env));
    expect(await successor.exited, successor.stderr()).toBe(0);
    await expectInProcessOutput();
    expect(successor.stderr()).toMatch(/going on from the checkpoint of slice \d+/);
  });

  it('the leading scheduler killed with SIGKILL: the standby takes over and finishes', async () => {
    await shortDuplicateWindow();
    const lease = { LIVE_CREW_LEASE_MS: '1000' };
    const leader = track(startScheduler(server.url, lease));
    await waitUntil(() => /scheduling stream/.test(leader.stderr()), 'the leader');
    const standby = track(startScheduler(server.url, lease));
    await waitUntil(() => /standby/.test(standby.stderr()), 'the standby');
    track(startRunner(server.url, RUNNER_A));
    track(startRunner(server.url, RUNNER_B));
    publishMatchDay(server.url);
    await midStream();
    leader.child.kill('SIGKILL');
    expect(await standby.exited, standby.stderr()).toBe(0);
    expect(standby.stderr()).toMatch(/scheduling stream match_42/);
    await expectInProcessOutput();
  });
});
