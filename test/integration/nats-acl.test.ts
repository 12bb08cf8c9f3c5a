import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsUser } from '../../src/adapters/nats/nats-authorization.js';
import { JetStreamDecisionJournal, readDecisions } from '../../src/adapters/nats/jetstream-decision-journal.js';
import { JetStreamPublisher } from '../../src/adapters/nats/jetstream-publishing.js';
import { crewOwner } from '../../src/framework/replay/decision-keys.js';
import {
  inProcessOutput,
  MATCH_DAY_CREWS,
  MATCH_DAY_STREAM,
  ofKind,
  publishMatchDay,
  runCli,
  startRunner,
  startScheduler,
  stopAll,
  storedMessages,
  waitUntil,
  withPosition,
  type CliProcess,
} from './distributed-cluster.js';
import { requireBinary, natsServer, type TestServer } from './servers.js';

const RUNNERS = { a: 'score_tracker|stats|commentator', b: 'graphics|referee_watch|pundit' };
const ADMIN = { user: 'admin', password: 'admin-secret' };

/** The users `live-crew acl` gives the match-day deployment, plus an admin for the test's own reads. */
function aclUsers(): NatsUser[] {
  const r = runCli(['acl', '--crews', MATCH_DAY_CREWS, '--stream', MATCH_DAY_STREAM, '--json', ...Object.entries(RUNNERS).map(([name, selector]) => `--runner=${name}=${selector}`)]);
  if (r.status !== 0) throw new Error(`acl failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { users: NatsUser[] }).users;
}

const binary = requireBinary('nats-server');

describe.skipIf(binary === undefined)('live-crew acl: a deployment under per-crew NATS permissions (issue 10)', () => {
  let users: NatsUser[];
  let server: TestServer;
  const processes: CliProcess[] = [];
  const as = (role: string) => {
    const user = users.find((u) => u.user.startsWith(role))!;
    return { LIVE_CREW_NATS_USER: user.user, LIVE_CREW_NATS_PASS: user.password };
  };
  const connectAs = (role: string) => {
    const { LIVE_CREW_NATS_USER: user, LIVE_CREW_NATS_PASS: pass } = as(role);
    return connect({ servers: server.url, user, pass });
  };
  const admin = { user: ADMIN.user, pass: ADMIN.password };

  beforeAll(async () => {
    users = aclUsers();
    const conf = join(mkdtempSync(join(tmpdir(), 'live-crew-acl-')), 'server.conf');
    const all = [...users.map(({ user, password, permissions }) => ({ user, password, permissions })), ADMIN];
    writeFileSync(conf, `authorization {\n  users = [\n${all.map((u) => `    ${JSON.stringify(u)}`).join('\n')}\n  ]\n}\n`);
    server = await natsServer({ args: ['-c', conf] })!();
  });
  afterAll(async () => {
    await stopAll(processes);
    await server?.stop();
  });

  it('runs the match-day stream distributed, each process as its own user, with the file-mode output', async () => {
    const scheduler = startScheduler(server.url, as('scheduler'));
    processes.push(scheduler);
    // The scheduler makes the streams and buckets; runners and producer may only open them.
    await waitUntil(() => /scheduling stream/.test(scheduler.stderr()), 'the scheduler to make the streams and buckets');
    processes.push(startRunner(server.url, RUNNERS.a, as('runner_a')), startRunner(server.url, RUNNERS.b, as('runner_b')));
    publishMatchDay(server.url, as('producer'));
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);

    const expected = inProcessOutput();
    const actions = await storedMessages(server.url, 'LIVE_ACTIONS', admin);
    expect(actions.length).toBe(expected.actions.length);
    for (const kind of new Set(expected.actions.map((line) => (JSON.parse(line) as { kind: string }).kind))) expect(ofKind(actions, kind)).toEqual(ofKind(expected.actions, kind));
    expect((await storedMessages(server.url, 'LIVE_ERRORS', admin)).map(withPosition).sort()).toEqual(expected.errors.map(withPosition).sort());
    for (const p of processes) expect(p.stderr()).not.toMatch(/permission/i);
  });

  it("refuses a runner that reports for another runner's crew, or reads another stream's bucket", async () => {
    // Another stream's context, as its own deployment would have stored it.
    const owner = await connect({ servers: server.url, ...admin });
    await (await new Kvm(owner).create('live_crew_ctx_other_stream')).put('snapshot', '{"slice":0,"context":{"secret":1}}');
    await owner.close();
    const nc = await connectAs('runner_a');
    try {
      const js = jetstream(nc);
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.slice.1.graphics.done`, '{"writes":[],"disabled":false}')).rejects.toThrow(/permission/i);
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.slice.1.stats.done`, '{"writes":[],"disabled":false}')).resolves.toMatchObject({ stream: 'LIVE_SLICES' });
      await expect((async () => (await new Kvm(nc).open('live_crew_ctx_other_stream')).get('snapshot'))()).rejects.toThrow(/permission/i);
      // Its own stream's context it may read.
      await expect((async () => (await new Kvm(nc).open(`live_crew_ctx_${MATCH_DAY_STREAM}`)).get('snapshot'))()).resolves.toBeDefined();
      await expect(js.publish('live.other_stream.actions', '{}')).rejects.toThrow(/permission/i);
    } finally {
      await nc.close();
    }
  });

  it("refuses a runner that records a decision for another runner's crew; one forged on its own subject counts for nobody", async () => {
    const forged = `timeout:graphics.onGoal:${MATCH_DAY_STREAM}:3:17`;
    const nc = await connectAs('runner_a');
    try {
      const js = jetstream(nc);
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.journal.crew.graphics`, forged)).rejects.toThrow(/permission/i);
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.journal.scheduler`, 'tick:1:0')).rejects.toThrow(/permission/i);
      // Its own crew's subject it may publish on, but a decision there counts only as its crew's.
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.journal.crew.stats`, forged)).resolves.toMatchObject({ stream: 'LIVE_JOURNAL' });
    } finally {
      await nc.close();
    }
    // Runner b opens its crews' journal as its user: the forged decision is not there.
    const b = await connectAs('runner_b');
    try {
      const js = jetstream(b);
      const { journal } = await JetStreamDecisionJournal.open(js, new JetStreamPublisher(b, js), MATCH_DAY_STREAM, [crewOwner('graphics'), crewOwner('referee_watch'), crewOwner('pundit')]);
      expect(journal.has(forged)).toBe(false);
    } finally {
      await b.close();
    }
    // Nor would anyone take it: read as a replay reads every owner's, it is refused as forged.
    const read = await connect({ servers: server.url, ...admin });
    try {
      const { decisions, refused } = await readDecisions(jetstream(read), MATCH_DAY_STREAM);
      expect(decisions.has(forged)).toBe(false);
      expect(refused.map((r) => r.problem)).toContainEqual(
        expect.stringMatching(/decision "timeout:graphics\.onGoal:match_42:3:17" is not one its subject's owner takes \(live\.match_42\.journal\.crew\.stats\)/),
      );
    } finally {
      await read.close();
    }
  });

  it("refuses a producer anything but its stream's events", async () => {
    const nc = await connectAs('producer');
    try {
      const js = jetstream(nc);
      await expect(js.publish('live.other_stream.events', '{}')).rejects.toThrow(/permission/i);
      await expect(js.publish(`live.${MATCH_DAY_STREAM}.actions`, '{}')).rejects.toThrow(/permission/i);
    } finally {
      await nc.close();
    }
  });
});
