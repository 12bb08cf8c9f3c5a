import { jetstream, jetstreamManager, type JetStreamPublishOptions } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamPublisher, type OutgoingMessage } from '../../src/adapters/nats/jetstream-publishing.js';
import { readStored } from '../../src/adapters/nats/jetstream-reading.js';
import { RunStateBucket } from '../../src/adapters/nats/run-state-bucket.js';
import { z } from 'zod';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();

const messages = (subject: string, from: number, to: number): OutgoingMessage[] => Array.from({ length: to - from }, (_, i) => ({ subject, data: `m${from + i}`, msgID: `${subject}:${from + i}` }));

/** A connection and a stream `name` on `name.>` (or `subjects`); `oneByOne` lists the subjects published the slow way, one request each. */
async function withStream(url: string, name: string, { subjects = [`${name.toLowerCase()}.>`], ...options }: { max_msg_size?: number; subjects?: string[] } = {}) {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await (await jetstreamManager(nc)).streams.add({ name, subjects, ...options });
  const js = jetstream(nc);
  const oneByOne: string[] = [];
  const counting = new Proxy(js, {
    get(target, key) {
      if (key !== 'publish') return Reflect.get(target, key);
      return (subject: string, data?: string, options?: Partial<JetStreamPublishOptions>) => {
        oneByOne.push(subject);
        return target.publish(subject, data, options);
      };
    },
  });
  return { nc, js, publisher: new JetStreamPublisher(nc, counting), oneByOne };
}

describe.skipIf(start === undefined)('JetStreamPublisher', () => {
  const server = serverForSuite(start!);

  it('stores a pipelined batch once each and in order; a batch sent again is de-duplicated by id', async () => {
    const { nc, js, publisher, oneByOne } = await withStream(server().url, 'ORDERED');
    await publisher.publishInOrder(messages('ordered.a', 0, 500));
    await publisher.publishInOrder(messages('ordered.a', 250, 750));
    expect(await readStored(js, 'ORDERED', 'ordered.a')).toEqual(messages('ordered.a', 0, 750).map((m) => m.data));
    // Every acknowledgement came back on the inbox: no message needed a request of its own.
    expect(oneByOne).toEqual([]);
    await nc.close();
  });

  it('a message the stream refuses fails the batch naming its subject; the others are stored once', async () => {
    const { nc, js, publisher, oneByOne } = await withStream(server().url, 'TINY', { max_msg_size: 64 });
    const batch = [...messages('tiny.ok', 0, 3), { subject: 'tiny.big', data: 'x'.repeat(200), msgID: 'big' }, ...messages('tiny.ok', 3, 5)];
    await expect(publisher.publishInOrder(batch)).rejects.toThrow(/publishing to tiny\.big/);
    // Those after it were pipelined with it: JetStream stored them when it refused it.
    expect(await readStored(js, 'TINY', 'tiny.>')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // Each acknowledgement was matched to its message: the refused one is where the slow way began.
    expect(oneByOne).toEqual(['tiny.big']);
    await nc.close();
  });

  it('a message retried after a later one was stored fails the batch loudly, naming both: readers would see them out of order', async () => {
    const { nc, js, publisher, oneByOne } = await withStream(server().url, 'HOLE', { subjects: ['hole.a'] });
    // hole.b is in no stream yet: the server answers that nobody stores it, and its retries go on
    // while hole.a, sent after it, is stored.
    const publishing = publisher.publishInOrder([
      { subject: 'hole.b', data: 'first', msgID: 'first' },
      { subject: 'hole.a', data: 'second', msgID: 'second' },
    ]);
    const failed = expect(publishing).rejects.toThrow(/stream HOLE stored the message to hole\.b at sequence 2, after the one to hole\.a \(sequence 1\), which was sent after it: .*out of order/);
    while (oneByOne.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.update('HOLE', { subjects: ['hole.a', 'hole.b'] });
    await failed;
    expect(await readStored(js, 'HOLE', 'hole.>')).toEqual(['second', 'first']);
    await nc.close();
  });

  it('rides out a server restart with acknowledgements in flight: every message stored once, in order', async () => {
    const { nc, js, publisher } = await withStream(server().url, 'RESTART');
    await publisher.publishInOrder(messages('restart.a', 0, 100));
    await server().stop();
    // Sent while the server is away: their acknowledgements cannot come back on this connection.
    const publishing = publisher.publishInOrder(messages('restart.a', 100, 300));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server().start();
    await publishing;
    expect(await readStored(js, 'RESTART', 'restart.a')).toEqual(messages('restart.a', 0, 300).map((m) => m.data));
    await nc.close();
  });

  it('a KV put goes through it without a message id: each is stored, and the key holds the last', async () => {
    const { nc, publisher, oneByOne } = await withStream(server().url, 'UNUSED');
    const bucket = await RunStateBucket.open(nc, publisher, 'puts');
    await bucket.put('crew.stats', { n: 1 });
    await bucket.put('crew.stats', { n: 1 });
    await bucket.put('crew.stats', { n: 2 });
    const stored = await bucket.get('crew.stats', z.object({ n: z.number() }));
    expect(stored).toEqual({ value: { n: 2 }, revision: 3, storedAt: expect.any(Date) });
    expect(oneByOne).toEqual([]);
    await nc.close();
  });

  it('fails at once on a closed connection, as the slow way says', async () => {
    const { nc, publisher } = await withStream(server().url, 'CLOSED');
    await nc.close();
    await expect(publisher.publishInOrder(messages('closed.a', 0, 2))).rejects.toThrow(/closed/i);
  });
});
