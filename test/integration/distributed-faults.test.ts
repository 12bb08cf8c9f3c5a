import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inProcessOutput, ofKind, publishMatchDay, startRunner, startScheduler, stopAll, storedCount, storedMessages, waitUntil, withPosition, type CliProcess } from './distributed-cluster.js';
import { natsServer, type TestServer } from './servers.js';

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
describe.skipIf(start === undefined)('a distributed run over NATS gives the in-process output, through faults', { timeout: 120_000 }, () => {
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
      ['LIVE_SLICES', 'live.*.slice.>'],
    ] as const) {
      await jsm.streams.add({ name, subjects: [subject], duplicate_window: nanos(100) });
    }
    await nc.close();
  }

  const midStream = () => waitUntil(async () => (await storedCount(server.url, 'LIVE_ACTIONS')) >= MID_STREAM, `${MID_STREAM} actions`);

  it('two runners split the crews by selector: the in-process output', async () => {
    publishMatchDay(server.url);
    const runnerA = track(startRunner(server.url, RUNNER_A));
    const runnerB = track(startRunner(server.url, RUNNER_B));
    const scheduler = track(startScheduler(server.url));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await expectInProcessOutput();
    expect(runnerA.stderr()).toMatch(/hosting commentator, score_tracker, stats/);
    expect(runnerB.stderr()).toMatch(/hosting graphics, pundit, referee_watch/);
  });

  it('a runner killed with SIGKILL mid-stream and started again: nothing lost, nothing twice, past the dedup window', async () => {
    await shortDuplicateWindow();
    publishMatchDay(server.url);
    const scheduler = track(startScheduler(server.url));
    track(startRunner(server.url, RUNNER_B));
    const runnerA = track(startRunner(server.url, RUNNER_A));
    await midStream();
    runnerA.child.kill('SIGKILL');
    await runnerA.exited;
    expect(await storedCount(server.url, 'LIVE_ACTIONS')).toBeLessThan(expected.actions.length);
    await new Promise((done) => setTimeout(done, 300));
    track(startRunner(server.url, RUNNER_A));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
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
