import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamDecisionJournal } from '../../src/adapters/nats/jetstream-decision-journal.js';
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
    const first = await JetStreamDecisionJournal.open(js, publisher, 'j1');
    expect([first.replaying, first.has('wait:x:j1:3:17')]).toEqual([false, false]);
    await first.record('wait:x:j1:3:17');
    await first.record('timeout:x.on:j1:4:20');
    await first.record('wait:x:j1:3:17');
    expect(first.has('wait:x:j1:3:17')).toBe(true);

    const successor = await JetStreamDecisionJournal.open(js, publisher, 'j1');
    expect([successor.has('wait:x:j1:3:17'), successor.has('timeout:x.on:j1:4:20'), successor.has('wait:x:j1:9:99')]).toEqual([true, true, false]);
    expect((await JetStreamDecisionJournal.open(js, publisher, 'other')).has('wait:x:j1:3:17')).toBe(false);
    const stored = await (await jetstreamManager(nc)).streams.info('LIVE_JOURNAL', { subjects_filter: 'live.j1.journal' });
    expect(stored.state.messages).toBe(2);
    await nc.close();
  });

  it('keeps the value of a decision (a model answer) for a successor: it never pays for a call twice', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    const publisher = new JetStreamPublisher(nc, js);
    const first = await JetStreamDecisionJournal.open(js, publisher, 'j2');
    const answer = { request: { model: 'abc' }, result: { content: [{ type: 'text', text: 'Goal! {"json": true}' }] } };
    await first.record('model:j2:0:pundit.on:1:0', answer);
    await first.record('budget:model:j2:0:pundit.on:2:0', '3 model calls started in the last minute');
    await first.record('timeout:x.on:j2:4:20');
    const successor = await JetStreamDecisionJournal.open(js, publisher, 'j2');
    expect(successor.value('model:j2:0:pundit.on:1:0')).toEqual(answer);
    expect(successor.value('budget:model:j2:0:pundit.on:2:0')).toBe('3 model calls started in the last minute');
    expect([successor.has('timeout:x.on:j2:4:20'), successor.value('timeout:x.on:j2:4:20')]).toEqual([true, undefined]);
    await nc.close();
  });
});

describe.skipIf(start === undefined)('readSubject', () => {
  const server = serverForSuite(start!);

  it('ends when its signal aborts while it is still making its consumer (a runner stopped as it starts)', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const stop = new AbortController();
    const reading = readSubject(jetstream(nc), { stream: 'LIVE_SLICES', subject: 'live.r1.slice.*.x.ready', fromSeq: 1, signal: stop.signal })[Symbol.asyncIterator]();
    const next = reading.next();
    stop.abort();
    const ended = await Promise.race([next.then((result) => result.done), new Promise((resolve) => setTimeout(() => resolve('still reading after 5 s'), 5000))]);
    expect(ended).toBe(true);
    await nc.close();
  });
});
