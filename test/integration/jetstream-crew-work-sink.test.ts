import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamCrewWorkSink } from '../../src/adapters/nats/jetstream-crew-work-sink.js';
import { JetStreamPublisher } from '../../src/adapters/nats/jetstream-publishing.js';
import { readStored } from '../../src/adapters/nats/jetstream-reading.js';
import { ensureLiveStreams } from '../../src/nats.js';
import type { CrewWork } from '../../src/index.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
const call = (position: number): CrewWork => ({
  type: 'call',
  streamId: 'w1',
  slice: 0,
  crew: 'stats',
  event: { ts: '2024-05-18T15:00:00.000Z', kind: 'pass', stream_id: 'w1', payload: { n: position } },
  position,
  source: `nats:live.w1.events#${position}`,
});

describe.skipIf(start === undefined)('JetStreamCrewWorkSink', () => {
  const server = serverForSuite(start!);

  it('stores what it is sent in order, without the sender waiting: the work of a group shares a message', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const sink = new JetStreamCrewWorkSink(new JetStreamPublisher(nc, jetstream(nc)), () => 'default');
    for (const position of [1, 2, 3]) expect(sink.send(call(position))).toBeUndefined();
    sink.send({ type: 'close', streamId: 'w1', slice: 0, crew: 'stats' });
    await sink.flush();
    const [stored, ...more] = await readStored(jetstream(nc), 'LIVE_SLICES', 'live.w1.work.default');
    expect(more).toEqual([]);
    expect(JSON.parse(stored!)).toMatchObject({ events: [{ position: 1 }, { position: 2 }, { position: 3 }], crews: { stats: [0, 1, 2, { close: 0 }] } });
    await nc.close();
  });

  it('a publish that fails fails every flush and send after it, not only a flush waiting at that moment', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const sink = new JetStreamCrewWorkSink(new JetStreamPublisher(nc, jetstream(nc)), () => 'default');
    await nc.close();
    sink.send(call(1));
    // Nobody waits while the publish fails; a wait for reports to that work flushes later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(sink.flush()).rejects.toThrow(/closed/i);
    expect(() => sink.send(call(2))).toThrow(/closed/i);
  });
});
