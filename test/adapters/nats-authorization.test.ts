import { describe, expect, it } from 'vitest';
import { authorizationConfig, deploymentUsers, poolUsers } from '../../src/adapters/nats/nats-authorization.js';

describe('deploymentUsers', () => {
  const users = deploymentUsers('m1', [
    { name: 'a', selector: 'scorer|stats', crews: ['scorer', 'stats'], groups: ['default'] },
    { name: 'b', selector: 'graphics', crews: ['graphics'], groups: ['gfx'] },
  ]);
  const publish = (user: string) => users.find((u) => u.user === user)!.permissions.publish.allow;

  it('gives a scheduler, one user per runner and a producer, each with its own password', () => {
    expect(users.map((u) => [u.role, u.user])).toEqual([
      ['scheduler', 'scheduler_m1'],
      ['runner', 'runner_a_m1'],
      ['runner', 'runner_b_m1'],
      ['producer', 'producer_m1'],
    ]);
    expect(new Set(users.map((u) => u.password)).size).toBe(4);
    // Replies come to inboxes; the scheduler also hears its stream's heartbeats, to watch its runners.
    expect(users.map((u) => u.permissions.subscribe.allow)).toEqual([['_INBOX.>', 'live.m1.heartbeats'], ['_INBOX.>'], ['_INBOX.>'], ['_INBOX.>']]);
  });

  it("lets a runner read its crews' groups' work and send the reports of its own crews only, and read every report", () => {
    const a = publish('runner_a_m1');
    expect(a).toEqual(
      expect.arrayContaining([
        'live.m1.slice.*.scorer.done',
        'live.m1.slice.*.stats.done',
        '$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.m1.work.default',
        '$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.m1.slice.*.*.done',
        '$KV.live_crew_run_m1.crew.stats',
      ]),
    );
    // It sends reports of its own crews only.
    expect(a.filter((s) => s.startsWith('live.') && s.endsWith('.done'))).toEqual(['live.m1.slice.*.scorer.done', 'live.m1.slice.*.stats.done']);
    // Nothing of the other runner's crew or group, no work sent, no context written, no events.
    expect(a.filter((s) => s.includes('graphics') || s.includes('gfx') || s.includes('$KV.live_crew_ctx_') || /^live\.[^.]+\.work\./.test(s) || s.includes('.events'))).toEqual([]);
    expect(publish('scheduler_m1')).toContain('live.m1.work.*');
    expect(a.every((s) => !s.includes('>') || s.startsWith('$JS.API.DIRECT.GET.KV_live_crew_ctx_m1.'))).toBe(true);
  });

  it('confines every user to its stream, and a producer to publishing its events', () => {
    for (const user of users)
      expect(user.permissions.publish.allow.filter((s) => /live[._]/.test(s) && !/m1\b|m1\.|_m1/.test(s) && !s.startsWith('$JS.API.STREAM.INFO.LIVE_') && !/\.LIVE_[A-Z]+\.\*$/.test(s))).toEqual([]);
    expect(publish('producer_m1').filter((s) => !s.startsWith('$JS.API.'))).toEqual(['live.m1.events']);
  });

  it('writes a nats-server authorization block with the subjects quoted', () => {
    const text = authorizationConfig('stream m1', users);
    expect(text).toMatch(/^# live-crew acl: NATS users of stream m1/);
    expect(text).toMatch(/authorization \{\n {2}users = \[\n {4}\{"user":"scheduler_m1","password":"[^"]+","permissions":\{"publish":\{"allow":\["\$JS\.API\.INFO"/);
  });
});

describe('poolUsers', () => {
  const users = poolUsers(['scorer'], [{ name: 'llm', crews: ['commentary', 'summary'] }]);
  const publish = (user: string) => users.find((u) => u.user === user)!.permissions.publish.allow;
  const kvWrites = (user: string) => publish(user).filter((s) => s.startsWith('$KV.'));

  it('gives every worker one user, one to each runner group and a producer, for every stream', () => {
    expect(users.map((u) => [u.role, u.user])).toEqual([
      ['worker', 'worker'],
      ['runner', 'runner_llm'],
      ['producer', 'producer'],
    ]);
    expect(publish('producer').filter((s) => !s.startsWith('$JS.API.'))).toEqual(['live.*.events']);
  });

  it("lets a group's runner send only its crews' reports and write only its crews' progress, its lease and its beats", () => {
    const llm = publish('runner_llm');
    expect(llm.filter((s) => s.startsWith('live.') && s.endsWith('.done'))).toEqual(['live.*.slice.*.commentary.done', 'live.*.slice.*.summary.done']);
    expect(kvWrites('runner_llm')).toEqual(['$KV.*.crew.commentary', '$KV.*.crew.summary', '$KV.*.runner.llm.lease', '$KV.live_crew_pool.runner.llm.*']);
    expect(llm).toContain('$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.*.work.llm');
    expect(llm.filter((s) => s.includes('scorer') || s.includes('work.default') || /^live\.[^.]+\.work\./.test(s) || s.includes('.events'))).toEqual([]);
  });

  it("lets a worker write its lease and checkpoint, the context and its own crews' progress, not a group's", () => {
    expect(kvWrites('worker')).toEqual(['$KV.*.scheduler.*', '$KV.*.snapshot', '$KV.*.crew.scorer', '$KV.live_crew_pool.>']);
    expect(publish('worker').filter((s) => s.includes('commentary') || s.includes('summary') || s.includes('work.llm'))).toEqual([]);
    expect(publish('worker')).toContain('$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.*.work.default');
  });
});
