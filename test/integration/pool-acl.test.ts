import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsUser } from '../../src/adapters/nats/nats-authorization.js';
import { runCli, startCli, stopAll, waitUntil, type CliProcess } from './distributed-cluster.js';
import { eventsFile, expectFileModeOutput, fileModeOutput, finishedStreams, GROUP_CREWS, groupConfig } from './pool-helpers.js';
import { natsServer, requireBinary, type TestServer } from './servers.js';

const ADMIN = { user: 'admin', password: 'admin-secret' };
const admin = { user: ADMIN.user, pass: ADMIN.password };

const binary = requireBinary('nats-server');

describe.skipIf(binary === undefined)('live-crew acl --pool: workers and a runner group under their own NATS permissions (issue 31)', () => {
  const config = groupConfig();
  let users: NatsUser[];
  let server: TestServer;
  const processes: CliProcess[] = [];
  const as = (name: string) => {
    const user = users.find((u) => u.user === name)!;
    return { LIVE_CREW_NATS_USER: user.user, LIVE_CREW_NATS_PASS: user.password };
  };
  const connectAs = (name: string) => connect({ servers: server.url, user: as(name).LIVE_CREW_NATS_USER, pass: as(name).LIVE_CREW_NATS_PASS });

  beforeAll(async () => {
    const r = runCli(['acl', '--pool', '--crews', GROUP_CREWS, '--config', config, '--json']);
    if (r.status !== 0) throw new Error(`acl failed: ${r.stderr}`);
    users = (JSON.parse(r.stdout) as { users: NatsUser[] }).users;
    const conf = join(mkdtempSync(join(tmpdir(), 'live-crew-pool-acl-')), 'server.conf');
    const all = [...users.map(({ user, password, permissions }) => ({ user, password, permissions })), ADMIN];
    writeFileSync(conf, `authorization {\n  users = [\n${all.map((u) => `    ${JSON.stringify(u)}`).join('\n')}\n  ]\n}\n`);
    server = await natsServer({ args: ['-c', conf] })!();
  });
  afterAll(async () => {
    await stopAll(processes);
    await server?.stop();
  });

  it('gives one user to every worker, one per runner group and a producer', () => {
    expect(users.map((u) => [u.role, u.user, u.usage])).toEqual([
      ['worker', 'worker', 'live-crew worker'],
      ['runner', 'runner_slow', 'live-crew runner --group slow'],
      ['producer', 'producer', 'live-crew publish <events>'],
    ]);
  });

  it('runs streams over two workers and the group, each process as its user, with the file-mode output', async () => {
    const { file, ids } = eventsFile('acl', 6, 30);
    const expected = fileModeOutput(file, GROUP_CREWS);
    const env = { LIVE_CREW_LEASE_MS: '1500', LIVE_CREW_LOG_LEVEL: 'info' };
    const start = (args: string[], user: string) => {
      const p = startCli([...args, '--crews', GROUP_CREWS, '--config', config, '--nats-url', server.url], { ...env, ...as(user) });
      processes.push(p);
      return p;
    };
    const first = start(['worker', '--id', 'a1'], 'worker');
    // The first worker makes the streams and buckets; the others may open them.
    await waitUntil(() => /joined the pool/.test(first.stderr()), 'the first worker to make the streams');
    start(['worker', '--id', 'a2'], 'worker');
    start(['runner', '--group', 'slow', '--id', 's1'], 'runner_slow');
    const published = runCli(['publish', file, '--end', '--nats-url', server.url], as('producer'));
    expect(published.status, published.stderr).toBe(0);
    await waitUntil(async () => (await finishedStreams(server.url, ids, admin)) === ids.length, 'every stream finished');
    await expectFileModeOutput(server.url, expected, ids, 30, { order: 'lane', auth: admin });
    for (const p of processes) expect(p.stderr()).not.toMatch(/permission/i);
  });

  it("refuses a group's runner what is not its crews': another crew's reports, a worker's beat, the scheduler's lease, events", async () => {
    const nc = await connectAs('runner_slow');
    try {
      const js = jetstream(nc);
      await expect(js.publish('live.acl0.slice.1.tally.done', '{"writes":[],"disabled":false}')).rejects.toThrow(/permission/i);
      await expect(js.publish('live.acl0.slice.1.mull.done', '{"writes":[],"disabled":false}')).resolves.toMatchObject({ stream: 'LIVE_SLICES' });
      await expect(js.publish('live.acl0.journal.crew.tally', 'x')).rejects.toThrow(/permission/i);
      await expect(js.publish('live.acl0.events', '{}')).rejects.toThrow(/permission/i);
      await expect(js.publish('live.acl0.work.slow', '{}')).rejects.toThrow(/permission/i);
      const pool = await new Kvm(nc).open('live_crew_pool');
      await expect(pool.put('worker.forged', '{}')).rejects.toThrow(/permission/i);
      await expect(pool.put('finished.acl0', '{"position":1}')).rejects.toThrow(/permission/i);
      const run = await new Kvm(nc).open('live_crew_run_acl0');
      await expect(run.put('scheduler.lease', '{}')).rejects.toThrow(/permission/i);
      await expect(run.put('crew.tally', '{}')).rejects.toThrow(/permission/i);
    } finally {
      await nc.close();
    }
  });

  it("refuses a producer anything but events, and a worker the group runner's lease", async () => {
    const producer = await connectAs('producer');
    try {
      const js = jetstream(producer);
      await expect(js.publish('live.acl0.actions', '{}')).rejects.toThrow(/permission/i);
      await expect(js.publish('live.acl0.slice.1.mull.done', '{}')).rejects.toThrow(/permission/i);
    } finally {
      await producer.close();
    }
    const worker = await connectAs('worker');
    try {
      await expect(jetstream(worker).publish('live.acl0.slice.1.mull.done', '{}')).rejects.toThrow(/permission/i);
      await expect((await new Kvm(worker).open('live_crew_run_acl0')).put('runner.slow.lease', '{}')).rejects.toThrow(/permission/i);
    } finally {
      await worker.close();
    }
  });
});
