import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamDecisionJournal, readDecisions } from '../../src/adapters/nats/jetstream-decision-journal.js';
import { crewOwner, SCHEDULER_OWNER } from '../../src/framework/replay/decision-keys.js';
import { JetStreamPublisher } from '../../src/adapters/nats/jetstream-publishing.js';
import { readSubject } from '../../src/adapters/nats/jetstream-reading.js';
import { ensureLiveStreams } from '../../src/nats.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();

describe.skipIf(start === undefined)('JetStreamDecisionJournal', () => {
  const server = serverForSuite(start!);

  it("gives a successor its predecessor's decisions, per stream, each stored once", async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    const publisher = new JetStreamPublisher(nc, js);
    const owners = [SCHEDULER_OWNER, crewOwner('x')];
    const first = (await JetStreamDecisionJournal.open(js, publisher, 'j1', owners)).journal;
    expect([first.replaying, first.has('wait:x:j1:3:17')]).toEqual([false, false]);
    await first.record('wait:x:j1:3:17');
    await first.record('timeout:x.on:j1:4:20');
    await first.record('wait:x:j1:3:17');
    expect(first.has('wait:x:j1:3:17')).toBe(true);

    const successor = (await JetStreamDecisionJournal.open(js, publisher, 'j1', owners)).journal;
    expect([successor.has('wait:x:j1:3:17'), successor.has('timeout:x.on:j1:4:20'), successor.has('wait:x:j1:9:99')]).toEqual([true, true, false]);
    expect((await JetStreamDecisionJournal.open(js, publisher, 'other', owners)).journal.has('wait:x:j1:3:17')).toBe(false);
    const stored = await (await jetstreamManager(nc)).streams.info('LIVE_JOURNAL', { subjects_filter: 'live.j1.journal.>' });
    expect(stored.state.messages).toBe(2);
    expect(stored.state.subjects).toEqual({ 'live.j1.journal.scheduler': 1, 'live.j1.journal.crew.x': 1 });
    await nc.close();
  });

  it('keeps the value of a decision (a model answer) for a successor: it never pays for a call twice', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    const publisher = new JetStreamPublisher(nc, js);
    const owners = [crewOwner('pundit'), crewOwner('x')];
    const first = (await JetStreamDecisionJournal.open(js, publisher, 'j2', owners)).journal;
    const answer = { request: { model: 'abc' }, result: { content: [{ type: 'text', text: 'Goal! {"json": true}' }] } };
    await first.record('model:j2:0:pundit.on:1:0', answer);
    await first.record('budget:model:j2:0:pundit.on:2:0', '3 model calls started in the last minute');
    await first.record('timeout:x.on:j2:4:20');
    const successor = (await JetStreamDecisionJournal.open(js, publisher, 'j2', owners)).journal;
    expect(successor.value('model:j2:0:pundit.on:1:0')).toEqual(answer);
    expect(successor.value('budget:model:j2:0:pundit.on:2:0')).toBe('3 model calls started in the last minute');
    expect([successor.has('timeout:x.on:j2:4:20'), successor.value('timeout:x.on:j2:4:20')]).toEqual([true, undefined]);
    await nc.close();
  });
});

describe.skipIf(start === undefined)('JetStreamDecisionJournal: decisions are owned', () => {
  const server = serverForSuite(start!);

  it("takes an entry only from its owner's subject, refuses a process recording another's, and skips junk, naming each", async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    const publisher = new JetStreamPublisher(nc, js);
    // Runner a's user may publish on its own crew's subject: a decision for b's crew there is forged.
    await js.publish('live.j3.journal.crew.a', 'timeout:b.on:j3:4:20');
    await js.publish('live.j3.journal.crew.a', 'tick:7:0');
    await js.publish('live.j3.journal.scheduler', '{"decision":');
    await js.publish('live.j3.journal.scheduler', `{"decision":"tick:1:0","value":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
    await js.publish('live.j3.journal.scheduler', '{"value":1}');
    await js.publish('live.j3.journal.crew.a', 'timeout:a.on:j3:5:21');
    await js.publish('live.j3.journal.scheduler', 'tick:2:0');

    const { journal: b } = await JetStreamDecisionJournal.open(js, publisher, 'j3', [crewOwner('b')]);
    expect(b.has('timeout:b.on:j3:4:20')).toBe(false);
    const { journal: a, refused: aRefused } = await JetStreamDecisionJournal.open(js, publisher, 'j3', [crewOwner('a')]);
    expect([a.has('timeout:a.on:j3:5:21'), a.has('timeout:b.on:j3:4:20'), a.has('tick:7:0')]).toEqual([true, false, false]);
    expect(aRefused.map((r) => r.problem)).toEqual([
      expect.stringMatching(/decision "timeout:b\.on:j3:4:20" is not one its subject's owner takes \(live\.j3\.journal\.crew\.a\)/),
      expect.stringMatching(/"tick:7:0"/),
    ]);
    await expect(a.record('timeout:b.on:j3:9:30')).rejects.toThrow(/decision "timeout:b\.on:j3:9:30" is not this process's to record/);

    const { journal: scheduler, refused: schedulerRefused } = await JetStreamDecisionJournal.open(js, publisher, 'j3', [SCHEDULER_OWNER]);
    expect([scheduler.has('tick:2:0'), scheduler.has('tick:1:0')]).toEqual([true, false]);
    expect(schedulerRefused.map((r) => `${r.subject}#${r.seq}: ${r.problem}`)).toEqual([
      expect.stringMatching(/^live\.j3\.journal\.scheduler#3: not a live-crew journal entry: not valid JSON/),
      expect.stringMatching(/^live\.j3\.journal\.scheduler#4: not a live-crew journal entry: .*nested deeper than 136 levels/),
      expect.stringMatching(/^live\.j3\.journal\.scheduler#5: not a live-crew journal entry: it has no "decision" key/),
    ]);
    // A replay of the stream reads every owner's, with the same rules.
    const all = await readDecisions(js, 'j3');
    expect([...all.decisions.keys()]).toEqual(['timeout:a.on:j3:5:21', 'tick:2:0']);
    expect(all.refused).toHaveLength(5);
    // A standby opened long before it takes over catches up with what was decided meanwhile.
    await js.publish('live.j3.journal.scheduler', 'tick:3:0');
    expect(scheduler.has('tick:3:0')).toBe(false);
    expect(await scheduler.catchUp()).toHaveLength(3);
    expect([scheduler.has('tick:3:0'), scheduler.has('tick:2:0')]).toEqual([true, true]);
    await nc.close();
  });

  it("moves a journal stream made before decisions were owned to the owners' subjects", async () => {
    const nc = await connect({ servers: server().url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete('LIVE_JOURNAL').catch(() => undefined);
    await jsm.streams.add({ name: 'LIVE_JOURNAL', subjects: ['live.*.journal'] });
    await ensureLiveStreams(nc);
    expect((await jsm.streams.info('LIVE_JOURNAL')).config.subjects).toEqual(['live.*.journal.>']);
    await nc.close();
  });
});

describe.skipIf(start === undefined)('readSubject', () => {
  const server = serverForSuite(start!);

  it('ends when its signal aborts while it is still making its consumer (a runner stopped as it starts)', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const stop = new AbortController();
    const reading = readSubject(jetstream(nc), { stream: 'LIVE_SLICES', subject: 'live.r1.work.x', fromSeq: 1, signal: stop.signal })[Symbol.asyncIterator]();
    const next = reading.next();
    stop.abort();
    const ended = await Promise.race([next.then((result) => result.done), new Promise((resolve) => setTimeout(() => resolve('still reading after 5 s'), 5000))]);
    expect(ended).toBe(true);
    await nc.close();
  });
});
