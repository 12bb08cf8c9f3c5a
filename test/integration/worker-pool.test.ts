import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveCrewApp } from '../../dist/index.js';
import { crews as poolCrews } from './fixtures/pool-crews.js';
import { runCli, startCli, stopAll, waitUntil, type CliProcess } from './distributed-cluster.js';
import { claimed, eventsFile, halvesOf, expectFileModeOutput, fileModeOutput, finishedOf, finishedStreams, ofStream, ownedBy, released, storedOf, streamsOf, takenOver } from './pool-helpers.js';
import { natsServer, serverForSuite } from './servers.js';
import { freePort } from '../../bench/local-servers.js';

const start = natsServer();
const POOL_CREWS = 'test/integration/fixtures/pool-crews.js';
/** Short leases: a dead worker's streams are taken over within 1.5 s. */
const WORKER_ENV = { LIVE_CREW_LEASE_MS: '1500', LIVE_CREW_LOG_LEVEL: 'info' };

describe.skipIf(start === undefined)('a pool of workers (DESIGN §12, issue 31)', () => {
  const server = serverForSuite(start!);
  const running: CliProcess[] = [];
  const worker = (id: string) => {
    const started = startCli(['worker', '--crews', POOL_CREWS, '--nats-url', server().url, '--id', id], WORKER_ENV);
    running.push(started);
    return started;
  };
  afterEach(async () => {
    await stopAll(running.splice(0));
  });

  it('200 streams over 2 workers: each stream as its file-mode run, the streams shared between both', async () => {
    const { file, ids } = eventsFile('many', 200, 50);
    const expected = fileModeOutput(file, POOL_CREWS);
    expect(expected.errors.length, 'the run has error records to keep').toBeGreaterThan(0);
    expect(expected.actions.filter((line) => line.includes('"watched"')).length, 'and a dependent reading merged context').toBeGreaterThan(0);
    const [w1, w2] = [worker('w1'), worker('w2')];
    const published = runCli(['publish', file, '--end', '--nats-url', server().url]);
    expect(published.status, published.stderr).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    await expectFileModeOutput(server().url, expected, ids, 50);
    expect(claimed(w1), 'streams w1 ran').toBeGreaterThan(0);
    expect(claimed(w2), 'streams w2 ran').toBeGreaterThan(0);
  });

  it('an app created with scheduler: nats is a worker too: it shares the streams with a CLI worker, and its run sums up what it ran', async () => {
    const { file, ids } = eventsFile('app', 30, 40);
    const expected = fileModeOutput(file, POOL_CREWS);
    const app = await createLiveCrewApp({ crews: poolCrews, configFile: false, env: {}, config: { scheduler: 'nats', nats_url: server().url, lease_ms: 1500, log_level: 'silent' } });
    const running = app.run();
    const cli = worker('c1');
    const published = runCli(['publish', file, '--end', '--nats-url', server().url]);
    expect(published.status, published.stderr).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    await app.stop();
    const summary = await running;
    await expectFileModeOutput(server().url, expected, ids, 40);
    expect(claimed(cli), 'streams the CLI worker ran').toBeGreaterThan(0);
    // The app ran the others, some maybe in part (handed over while they ran): it says what it ran.
    expect(summary.events).toBeGreaterThan(0);
    expect(summary.actions).toBeGreaterThanOrEqual(summary.events);
  });

  it('a stream idle past stream_idle_ms is released, holding nothing, and claimed again when its events return', async () => {
    const { file, ids } = eventsFile('idle', 10, 40);
    const expected = fileModeOutput(file, POOL_CREWS);
    const { first, rest } = halvesOf(file);
    const port = await freePort();
    const w = startCli(['worker', '--crews', POOL_CREWS, '--nats-url', server().url, '--id', 'i1', '--metrics-port', String(port)], { ...WORKER_ENV, LIVE_CREW_STREAM_IDLE_MS: '1000' });
    running.push(w);
    expect(runCli(['publish', first, '--nats-url', server().url]).status).toBe(0);
    await waitUntil(() => released(w) === ids.length, 'every stream released idle');
    // Its next beat says it holds none of them.
    await waitUntil(async () => (await ownedBy(server().url, 'i1')) === 0, 'a beat owning no stream');
    // `live-crew pool` says so too: the worker holds nothing, the streams are idle, none waits for a claim.
    const pool = runCli(['pool', '--json', '--nats-url', server().url]);
    expect(pool.status, pool.stderr).toBe(0);
    const status = JSON.parse(pool.stdout) as { workers: unknown[]; idle: number; unowned: string[] };
    expect(status.workers).toContainEqual({ id: 'i1', owned: 0, streams: [] });
    expect(status.idle).toBeGreaterThanOrEqual(ids.length);
    expect(status.unowned.filter((stream) => ids.includes(stream))).toEqual([]);
    expect(runCli(['publish', rest, '--end', '--nats-url', server().url]).status).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    expect(claimed(w), 'each stream claimed twice: before and after its pause').toBe(2 * ids.length);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const [change, count] of [
      ['claimed', 2 * ids.length],
      ['released-idle', ids.length],
      ['finished', ids.length],
    ] as const) {
      expect(metrics).toMatch(new RegExp(`^live_crew_pool_ownership_changes_total\\{change="${change}"\\} ${count}$`, 'm'));
    }
    expect(metrics).toMatch(/^live_crew_pool_workers 1$/m);
    await expectFileModeOutput(server().url, expected, ids, 40);
  });

  it('live mode: streams handed over to a joining worker mid-run lose nothing: no event late, no count missed or made twice', async () => {
    const events = 80;
    const { file, ids } = eventsFile('live', 20, events);
    const env = { LIVE_CREW_MODE: 'live' };
    const first = startCli(['worker', '--crews', POOL_CREWS, '--nats-url', server().url, '--id', 'v1'], { ...WORKER_ENV, ...env });
    running.push(first);
    // 20 s of event time, published as it happens: the hand-over lands while every stream is
    // open, however slow a loaded machine makes the claims.
    const publisher = startCli(['publish', file, '--end', '--pace', '1', '--nats-url', server().url]);
    const ours = async (worker: string) => (await streamsOf(server().url, worker)).filter((stream) => ids.includes(stream)).length;
    await waitUntil(async () => (await ours('v1')) === ids.length, 'every stream owned by the first worker');
    const second = startCli(['worker', '--crews', POOL_CREWS, '--nats-url', server().url, '--id', 'v2'], { ...WORKER_ENV, ...env });
    running.push(second);
    // Half of the active streams, earlier tests' included if any is still open.
    await waitUntil(async () => (await ours('v2')) >= ids.length / 2 - 2, 'half the streams handed over').catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nv1:\n${first.stderr()}\nv2:\n${second.stderr()}`);
    });
    expect(await publisher.exited, publisher.stderr()).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    const errors = await storedOf(server().url, 'LIVE_ERRORS', ids);
    expect(new Set(errors.map((line) => (JSON.parse(line) as { payload: { reason: string } }).payload.reason))).toEqual(new Set(['handler_error']));
    const actions = await storedOf(server().url, 'LIVE_ACTIONS', ids);
    for (const id of ids) {
      const tallies = ofStream(actions, id).flatMap((line) => {
        const action = JSON.parse(line) as { kind: string; payload: { n: number } };
        return action.kind === 'tallied' ? [action.payload.n] : [];
      });
      expect(tallies, `every event of ${id} counted once, in order`).toEqual(Array.from({ length: events }, (_, i) => i + 1));
    }
  });

  it('records in the pool bucket that no worker wrote are ignored: the streams they name are served all the same', async () => {
    const { file, ids } = eventsFile('junk', 4, 20);
    const expected = fileModeOutput(file, POOL_CREWS);
    const nc = await connect({ servers: server().url });
    try {
      const pool = await new Kvm(nc).create('live_crew_pool', { history: 1 });
      await pool.put('worker.junk', 'not json');
      await pool.put('worker.deep', '['.repeat(5000));
      await pool.put('idle.junk0', '{"events":"many"}');
      await pool.put('finished.junk1', '{}');
      await pool.put('finished.junk2', 'null');
      await pool.put('something.else', '{}');
      // A runner group's beats: junk, one nesting a key too deep, one claiming every stream but long dead.
      await pool.put('runner.slow.junk', '{"name":1}');
      await pool.put('runner.slow.a.b', '{"name":"x","until":99999999999999,"streams":["junk0"]}');
      await pool.put('runner.slow.dead', '{"name":"x","until":1,"streams":["junk0","junk1","junk2","junk3"]}');
    } finally {
      await nc.close();
    }
    worker('k1');
    expect(runCli(['publish', file, '--end', '--nats-url', server().url]).status).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    await expectFileModeOutput(server().url, expected, ids, 20);
    // No runner group is up: the junk beats name none.
    const pool = runCli(['pool', '--json', '--nats-url', server().url]);
    expect((JSON.parse(pool.stdout) as { groups: unknown[] }).groups).toEqual([]);
  });

  it('workers SIGKILLed at three points mid-run, each replaced: their streams are taken over from their last commits, nothing lost, nothing twice', async () => {
    const { file, ids } = eventsFile('kill', 40, 80);
    const expected = fileModeOutput(file, POOL_CREWS);
    const pool = [worker('w1'), worker('w2')];
    // Who is killed at each point (the oldest), and who is alive after it.
    const victimIds = ['w1', 'w2', 'w3'];
    const liveIds = (kill: number) => [`w${kill + 2}`, `w${kill + 3}`];
    // 20 s of event time, published as it happens: the kills land while every stream is open,
    // however slow a loaded machine makes each takeover.
    const publisher = startCli(['publish', file, '--end', '--pace', '1', '--nats-url', server().url]);
    // A fixed seed: the kill points are random, and the same on every run of the test.
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const stored: number[] = [];
    for (const [kill, share] of [0.2, 0.45, 0.7].entries()) {
      const point = Math.floor(expected.actions.length * (share + random() * 0.05));
      await waitUntil(
        async () => (await streamsOf(server().url, victimIds[kill]!)).length > 0 && (await storedOf(server().url, 'LIVE_ACTIONS', ids)).length >= point,
        `${victimIds[kill]} owning streams and ${point} actions stored`,
      );
      stored.push((await storedOf(server().url, 'LIVE_ACTIONS', ids)).length);
      const victim = pool.shift()!;
      const orphans = await streamsOf(server().url, victimIds[kill]!);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;
      pool.push(worker(`w${kill + 3}`));
      // Its streams are taken over by the others, whichever they are (and may even finish there).
      await waitUntil(async () => {
        const held = new Set((await Promise.all(liveIds(kill).map((id) => streamsOf(server().url, id)))).flat());
        const finished = await finishedOf(server().url, orphans);
        return orphans.every((stream) => held.has(stream) || finished.has(stream));
      }, `the streams of ${victimIds[kill]} taken over`);
      console.info(`worker-pool: kill ${kill + 1} at ${stored.at(-1)} actions; its ${orphans.length} streams taken over ${Date.now() - killedAt} ms later (lease 1500 ms)`);
    }
    expect(
      pool.reduce((sum, p) => sum + takenOver(p), 0),
      'streams claimed from a worker whose lease lapsed',
    ).toBeGreaterThan(0);
    expect(await publisher.exited, publisher.stderr()).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    expect(Math.max(...stored), 'every kill landed before the output was complete').toBeLessThan(expected.actions.length);
    await expectFileModeOutput(server().url, expected, ids, 80);
  });

  it('a third worker joining mid-run gets a third of the streams from the other two, with nothing lost', async () => {
    const { file, ids } = eventsFile('join', 60, 80);
    const expected = fileModeOutput(file, POOL_CREWS);
    const { first, rest } = halvesOf(file);
    worker('j1');
    worker('j2');
    // Half the events, and no end: every stream stays open until the join is done, however slow
    // a loaded machine makes the hand-overs.
    expect(runCli(['publish', first, '--nats-url', server().url]).status).toBe(0);
    await waitUntil(async () => (await ownedBy(server().url, 'j1')) + (await ownedBy(server().url, 'j2')) === ids.length, 'every stream owned by the first two');
    const joinedAt = Date.now();
    worker('j3');
    await waitUntil(async () => (await ownedBy(server().url, 'j3')) >= ids.length / 3 - 1, 'the third worker at its share');
    console.info(`worker-pool: the joining worker owned ${await ownedBy(server().url, 'j3')} of ${ids.length} streams ${Date.now() - joinedAt} ms after it started`);
    // The rest arrives while the streams are spread over three.
    const published = runCli(['publish', rest, '--end', '--nats-url', server().url]);
    expect(published.status, published.stderr).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    await expectFileModeOutput(server().url, expected, ids, 80);
  });
});
