import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamDecisionJournal } from '../../src/adapters/nats/jetstream-decision-journal.js';
import { ensureLiveStreams } from '../../src/index.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();

describe.skipIf(start === undefined)('JetStreamDecisionJournal', () => {
  const server = serverForSuite(start!);

  it("gives a successor its predecessor's decisions, per stream, each stored once", async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    const first = await JetStreamDecisionJournal.open(js, 'j1');
    expect([first.replaying, first.has('wait:x:j1:3:17')]).toEqual([false, false]);
    await first.record('wait:x:j1:3:17');
    await first.record('timeout:x.on:j1:4:20');
    await first.record('wait:x:j1:3:17');
    expect(first.has('wait:x:j1:3:17')).toBe(true);

    const successor = await JetStreamDecisionJournal.open(js, 'j1');
    expect([successor.has('wait:x:j1:3:17'), successor.has('timeout:x.on:j1:4:20'), successor.has('wait:x:j1:9:99')]).toEqual([true, true, false]);
    expect((await JetStreamDecisionJournal.open(js, 'other')).has('wait:x:j1:3:17')).toBe(false);
    const stored = await (await jetstreamManager(nc)).streams.info('LIVE_JOURNAL', { subjects_filter: 'live.j1.journal' });
    expect(stored.state.messages).toBe(2);
    await nc.close();
  });
});
