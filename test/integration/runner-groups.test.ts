import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardView } from '../../src/adapters/dashboard/dashboard-view.js';
import { runCli, startCli, stopAll, waitUntil, type CliProcess } from './distributed-cluster.js';
import { claimed, eventsFile, expectFileModeOutput, GROUP_CREWS, groupConfig, fileModeOutput, finishedStreams, storedOf, streamsOf, takenOver } from './pool-helpers.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
/** Short leases: a dead runner's streams are taken over within 1.5 s. */
const POOL_ENV = { LIVE_CREW_LEASE_MS: '1500', LIVE_CREW_LOG_LEVEL: 'info' };

describe.skipIf(start === undefined)('runner groups (DESIGN §5 amendments, issue 31)', () => {
  const server = serverForSuite(start!);
  const running: CliProcess[] = [];
  const started = (args: string[]) => {
    const p = startCli([...args, '--crews', GROUP_CREWS, '--nats-url', server().url], POOL_ENV);
    running.push(p);
    return p;
  };
  afterEach(async () => {
    await stopAll(running.splice(0));
  });

  it('dev --nats-url shows every stream of the pool with the worker and the runner serving it', async () => {
    const config = groupConfig();
    const { file, ids } = eventsFile('dev', 4, 8);
    // First in the suite, on a server where nothing made live-crew's streams yet: a pool of none.
    const viewer = started(['dev', '--port', '0']);
    await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(viewer.stderr()), 'the viewer to serve its dashboard');
    const page = /live-crew dashboard: (http:\S+)/.exec(viewer.stderr())![1]!;
    const pool = async () => ((await (await fetch(new URL('api/view', page))).json()) as DashboardView).pool!;
    await waitUntil(async () => (await fetch(new URL('api/view', page))).ok, 'the view');
    expect(await pool()).toMatchObject({ workers: [], groups: [], streams: 0, list: [] });
    started(['worker', '--config', config, '--id', 'dw1']);
    started(['runner', '--group', 'slow', '--config', config, '--id', 'dr1']);
    // No --end: the streams stay active, each held by the worker and by the group's runner.
    expect(runCli(['publish', file, '--nats-url', server().url]).status).toBe(0);
    const ours = async () => (await pool()).list.filter((stream) => ids.includes(stream.id));
    await waitUntil(async () => (await ours()).filter((s) => s.worker === 'dw1' && s.runners['slow'] === 'dr1').length === ids.length, 'every stream served by dw1 and dr1');
    expect(await ours()).toEqual(ids.map((id) => ({ id, events: 8, state: 'active', worker: 'dw1', runners: { slow: 'dr1' } })));
    const view = await pool();
    expect(view.workers).toContainEqual({ id: 'dw1', owned: ids.length, streams: [...ids].sort() });
    expect(view.groups).toContainEqual({ group: 'slow', runners: [{ id: 'dr1', owned: ids.length, streams: [...ids].sort() }] });
  });

  it('a group of 2 runners serves its slow crew for 50 streams, the streams shared between them; killing one mid-run loses nothing', async () => {
    const config = groupConfig();
    const { file, ids } = eventsFile('grp', 50, 40);
    const expected = fileModeOutput(file, GROUP_CREWS);
    expect(expected.actions.filter((line) => line.includes('"mulled"')).length, 'the slow crew has work').toBeGreaterThan(0);
    const worker = started(['worker', '--config', config, '--id', 'gw1']);
    const runners = [started(['runner', '--group', 'slow', '--config', config, '--id', 'r1']), started(['runner', '--group', 'slow', '--config', config, '--id', 'r2'])];
    // 10 s of event time published in 5: the kill lands while the streams are open.
    const publisher = startCli(['publish', file, '--end', '--pace', '2', '--nats-url', server().url]);
    await waitUntil(async () => (await streamsOf(server().url, 'runner.slow.r1')).length > 0 && (await streamsOf(server().url, 'runner.slow.r2')).length > 0, 'both runners serving streams');
    await waitUntil(async () => (await storedOf(server().url, 'LIVE_ACTIONS', ids)).filter((line) => line.includes('"mulled"')).length > 0, 'the slow crew acting');
    const orphans = await streamsOf(server().url, 'runner.slow.r1');
    runners[0]!.child.kill('SIGKILL');
    await runners[0]!.exited;
    expect(await publisher.exited, publisher.stderr()).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished');
    await expectFileModeOutput(server().url, expected, ids, 40, { order: 'lane' });
    expect(orphans.length, 'the killed runner served streams').toBeGreaterThan(0);
    expect(takenOver(runners[1]!), "the survivor took the killed runner's streams over").toBeGreaterThan(0);
    // The worker ran the other crews and scheduled every stream; the slow crew ran only in the group.
    expect(claimed(worker)).toBeGreaterThanOrEqual(ids.length);
    const hosting = (p: CliProcess) => p.stderr().match(/"msg":"runner r\d of group slow joined the pool with (\d+) crews/)?.[1];
    expect(runners.map(hosting)).toEqual(['1', '1']);
    expect(worker.stderr()).toMatch(/"msg":"worker gw1 joined the pool with 3 crews/);
  });

  it('a worker with runner groups hands streams over to a joining worker mid-run: the scheduler and its crews stop at once, nothing lost', async () => {
    const config = groupConfig();
    const { file, ids } = eventsFile('ghand', 20, 80);
    const expected = fileModeOutput(file, GROUP_CREWS);
    const hw1 = started(['worker', '--config', config, '--id', 'hw1']);
    started(['runner', '--group', 'slow', '--config', config, '--id', 'hr1']);
    // 20 s of event time published as it happens: a scheduler runs live, and an event published
    // long after its time would be late there (the file-mode run has no wall clock).
    const publisher = startCli(['publish', file, '--end', '--pace', '1', '--nats-url', server().url]);
    // Earlier tests' streams may be active too: only this test's are counted.
    const ours = async (member: string) => (await streamsOf(server().url, member)).filter((stream) => ids.includes(stream)).length;
    let hw2: CliProcess | undefined;
    const explained = (error: unknown) => {
      throw new Error(`${(error as Error).message}\nhw1:\n${hw1.stderr()}\nhw2:\n${hw2?.stderr() ?? ''}`);
    };
    await waitUntil(async () => (await ours('hw1')) === ids.length, 'every stream owned by the first worker');
    hw2 = started(['worker', '--config', config, '--id', 'hw2']);
    // hw1 hands over what it holds beyond half the active streams: most of them this test's.
    await waitUntil(async () => (await ours('hw2')) >= ids.length / 2 - 4, 'about half the streams handed over').catch(explained);
    expect(await publisher.exited, publisher.stderr()).toBe(0);
    await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished').catch(explained);
    await expectFileModeOutput(server().url, expected, ids, 80, { order: 'lane' });
  });

  it('a config whose runner groups contradict its crews is refused before connecting, naming the group', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-groups-'));
    const config = (name: string, yaml: string) => {
      const file = join(dir, name);
      writeFileSync(file, yaml);
      return file;
    };
    const none = runCli(['worker', '--crews', GROUP_CREWS, '--nats-url', server().url, '--config', config('none.yaml', 'runners:\n  slow:\n    crews: slwo\n')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('runners.slow.crews: "slwo" matches no crew (the crews are: brittle, mull, tally, watcher)');
    const twice = runCli(['worker', '--crews', GROUP_CREWS, '--nats-url', server().url, '--config', config('twice.yaml', 'runners:\n  a:\n    crews: mull|tally\n  b:\n    crews: m.*\n')]);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('crew mull is in runner groups a and b');
    // Refused before any server is asked: none listens here.
    const unknown = runCli(['runner', '--group', 'fast', '--crews', GROUP_CREWS, '--nats-url', 'nats://127.0.0.1:1', '--config', groupConfig()]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("no runner group fast in the config's runners (groups: slow)");
    const badName = runCli(['worker', '--crews', GROUP_CREWS, '--nats-url', server().url, '--config', config('name.yaml', 'runners:\n  "a.b":\n    crews: mull\n')]);
    expect(badName.status).toBe(1);
    expect(badName.stderr).toMatch(/runners.a.b \(line 2\): must map runner group names \(1-32 letters, digits, _ or -\)/);
    const badRegex = runCli(['worker', '--crews', GROUP_CREWS, '--nats-url', server().url, '--config', config('regex.yaml', 'runners:\n  slow:\n    crews: "mull("\n')]);
    expect(badRegex.status).toBe(1);
    expect(badRegex.stderr).toMatch(/runners\.slow\.crews.*must be a valid regular expression/);
  });
});
