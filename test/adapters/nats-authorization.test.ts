import { describe, expect, it } from 'vitest';
import { authorizationConfig, deploymentUsers } from '../../src/adapters/nats/nats-authorization.js';

describe('deploymentUsers', () => {
  const users = deploymentUsers('m1', [
    { name: 'a', selector: 'scorer|stats', crews: ['scorer', 'stats'] },
    { name: 'b', selector: 'graphics', crews: ['graphics'] },
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

  it('lets a runner read the work and send the reports of its own crews only, and read every report', () => {
    const a = publish('runner_a_m1');
    expect(a).toEqual(
      expect.arrayContaining([
        'live.m1.slice.*.scorer.done',
        'live.m1.slice.*.stats.done',
        '$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.m1.slice.*.scorer.ready',
        '$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.m1.slice.*.*.done',
        '$KV.live_crew_run_m1.crew.stats',
      ]),
    );
    // It sends reports of its own crews only.
    expect(a.filter((s) => s.startsWith('live.') && s.endsWith('.done'))).toEqual(['live.m1.slice.*.scorer.done', 'live.m1.slice.*.stats.done']);
    // Nothing of the other runner's crew, no work sent, no context written, no events.
    expect(a.filter((s) => s.includes('graphics') || s.includes('$KV.live_crew_ctx_') || (s.startsWith('live.') && s.endsWith('.ready')) || s.includes('.events'))).toEqual([]);
    expect(a.every((s) => !s.includes('>') || s.startsWith('$JS.API.DIRECT.GET.KV_live_crew_ctx_m1.'))).toBe(true);
  });

  it('confines every user to its stream, and a producer to publishing its events', () => {
    for (const user of users)
      expect(user.permissions.publish.allow.filter((s) => /live[._]/.test(s) && !/m1\b|m1\.|_m1/.test(s) && !s.startsWith('$JS.API.STREAM.INFO.LIVE_') && !/\.LIVE_[A-Z]+\.\*$/.test(s))).toEqual([]);
    expect(publish('producer_m1').filter((s) => !s.startsWith('$JS.API.'))).toEqual(['live.m1.events']);
  });

  it('writes a nats-server authorization block with the subjects quoted', () => {
    const text = authorizationConfig('m1', users);
    expect(text).toMatch(/^# live-crew acl: NATS users of stream m1/);
    expect(text).toMatch(/authorization \{\n {2}users = \[\n {4}\{"user":"scheduler_m1","password":"[^"]+","permissions":\{"publish":\{"allow":\["\$JS\.API\.INFO"/);
  });
});
