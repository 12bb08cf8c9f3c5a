import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamContextBackend } from '../../src/adapters/nats/jetstream-context-backend.js';
import { describeContextBackendContract } from './context-backend-contract.js';
import { itResumesContextThrough } from './resume-context.js';
import { natsServer, type TestServer } from './servers.js';

const start = natsServer();

describe.skipIf(start === undefined)('JetStreamContextBackend against a real nats-server -js', () => {
  let server: TestServer;
  const connections: NatsConnection[] = [];
  const connection = async () => {
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    return nc;
  };
  const closeAll = async () => {
    await Promise.all(connections.splice(0).map((nc) => nc.close()));
  };

  beforeAll(async () => {
    server = await start!();
  });
  afterAll(async () => {
    await closeAll();
    await server.stop();
  });

  itResumesContextThrough(() => ({ kv_backend: 'jetstream', nats_url: server.url }));

  describeContextBackendContract('jetstream kv', () => ({
    writer: async () => new JetStreamContextBackend(await connection()),
    restart: async () => {
      await closeAll();
      await server.stop();
      await server.start();
    },
  }));

  it('keeps each stream in a bucket named after it (bucket names cannot hold dots; stream ids never do)', async () => {
    const nc = await connection();
    const backend = new JetStreamContextBackend(nc);
    await backend.commit('match-42_b', 1, { score: 1 });
    expect(backend.bucketName('match-42_b')).toBe('live_crew_ctx_match-42_b');
    const kv = await new Kvm(nc).open('live_crew_ctx_match-42_b');
    expect((await kv.get('snapshot'))?.json()).toEqual({ slice: 1, context: { score: 1 } });
  });
});
