import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { crews as matchDayCrews } from '../../examples/match-day/crews.js';
// The built package: the pundit's worker runs the built framework.
import { createTestingApp } from '../../dist/testing.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  inProcessOutput,
  MATCH_DAY_CREWS,
  MATCH_DAY_EVENTS,
  MATCH_DAY_STREAM,
  ofKind,
  publishMatchDay,
  ROOT,
  startCli,
  storedCount,
  storedMessages,
  waitUntil,
  withPosition,
} from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
const KILLS = 20;

/**
 * `run --transport nats` killed with SIGKILL at random points and started again each time, with
 * its context in JetStream KV: what JetStream holds at the end must be what one uninterrupted
 * file-mode run gives. Events are acknowledged only once their slice is committed, and the
 * committed context carries epoch0 and how far the input is merged, so a restart neither loses
 * an open slice's writes nor runs a merged event twice.
 */
/** The last event the run's consumer has acknowledged, every one before it too. */
async function ackFloor(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const info = await (await jetstreamManager(nc)).consumers.info('LIVE_EVENTS', 'live-crew').catch(() => undefined);
    // A consumer being made (or a server restarting) may answer without its ack floor yet.
    return info?.ack_floor?.stream_seq ?? 0;
  } finally {
    await nc.close();
  }
}

describe.skipIf(start === undefined)('run --transport nats through SIGKILLs (issue 10)', () => {
  const server = serverForSuite(start!);

  it(`${KILLS} kills at random points: 0 lost, 0 duplicated, 0 wrong context values`, async () => {
    const expected = inProcessOutput();
    publishMatchDay(server().url);
    const run = () => startCli(['run', '-', '--crews', MATCH_DAY_CREWS, '--transport', 'nats', '--nats-url', server().url], { LIVE_CREW_KV_BACKEND: 'jetstream' });
    // A fixed seed: the kill points are random but the same on every run of the test.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    // Each process is killed a random moment after it has got a little further through the
    // stream (its ack floor moved on), so the kills spread over the whole stream whatever the
    // machine's speed.
    const step = Math.floor(readFileSync(join(ROOT, MATCH_DAY_EVENTS), 'utf8').split('\n').length / (KILLS + 5));
    let midStream = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const victim = run();
      const target = (kill + 1) * step;
      await waitUntil(async () => (await ackFloor(server().url)) >= target, `the ack floor past ${target}`);
      await new Promise((resolve) => setTimeout(resolve, random() * 300));
      victim.child.kill('SIGKILL');
      await victim.exited;
      if ((await storedCount(server().url, 'LIVE_ACTIONS')) < expected.actions.length) midStream++;
    }
    const last = run();
    await waitUntil(
      async () => (await storedCount(server().url, 'LIVE_ACTIONS')) >= expected.actions.length && (await storedCount(server().url, 'LIVE_ERRORS')) >= expected.errors.length,
      'the whole output',
    );
    // Anything sent twice would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    last.child.kill('SIGTERM');
    expect(await last.exited, last.stderr()).toBe(0);

    expect(midStream, 'kills that landed before the output was complete').toBeGreaterThanOrEqual(KILLS / 2);
    const actions = await storedMessages(server().url, 'LIVE_ACTIONS');
    expect(actions.length, 'actions stored: none lost, none twice').toBe(expected.actions.length);
    expect([...actions].sort()).toEqual([...expected.actions].sort());
    for (const kind of new Set(expected.actions.map((line) => (JSON.parse(line) as { kind: string }).kind))) {
      expect(ofKind(actions, kind), `order of ${kind} actions`).toEqual(ofKind(expected.actions, kind));
    }
    const errors = await storedMessages(server().url, 'LIVE_ERRORS');
    expect(errors.map(withPosition).sort()).toEqual(expected.errors.map(withPosition).sort());

    // The context in KV is the uninterrupted run's, with its epoch0.
    const events = readFileSync(join(ROOT, MATCH_DAY_EVENTS), 'utf8').split('\n').filter(Boolean);
    const reference = await (await createTestingApp({ crews: matchDayCrews, crewsModule: join(ROOT, MATCH_DAY_CREWS) })).run(events);
    const nc = await connect({ servers: server().url });
    try {
      const entry = await (await new Kvm(nc).open(`live_crew_ctx_${MATCH_DAY_STREAM}`)).get('snapshot');
      const stored = JSON.parse(entry!.string()) as { context: unknown; epoch0: number };
      expect(stored.context).toEqual(reference.context(MATCH_DAY_STREAM));
      expect(stored.epoch0).toBe(Date.parse((JSON.parse(events[0]!) as { ts: string }).ts));
      const consumer = await (await jetstreamManager(nc)).consumers.info('LIVE_EVENTS', 'live-crew');
      expect(consumer.num_ack_pending, 'every event acknowledged once committed').toBe(0);
    } finally {
      await nc.close();
    }
  });
});
