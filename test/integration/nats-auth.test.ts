import { describe, expect, it } from 'vitest';
import { JetStreamContextBackend } from '../../src/adapters/nats/jetstream-context-backend.js';
import { natsConnectOptions } from '../../src/adapters/nats/nats-connect.js';
import { CONFIG_DEFAULTS } from '../../src/framework/config/config-schema.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer({ args: ['--user', 'crew', '--pass', 's3cret'] });

describe.skipIf(start === undefined)('NATS credentials from config against a server that requires them', () => {
  const server = serverForSuite(start!);

  it('connects with the configured user and password', async () => {
    const backend = new JetStreamContextBackend(natsConnectOptions({ ...CONFIG_DEFAULTS, nats_url: server().url, nats_user: 'crew', nats_pass: 's3cret' }));
    await backend.commit('auth', 1, { ok: true });
    expect((await backend.load('auth'))?.context).toEqual({ ok: true });
    await backend.close();
  });

  it("fails with the server's authorization error for a wrong password", async () => {
    const backend = new JetStreamContextBackend(natsConnectOptions({ ...CONFIG_DEFAULTS, nats_url: server().url, nats_user: 'crew', nats_pass: 'wrong' }));
    await expect(backend.load('auth')).rejects.toThrow(/Authorization Violation/i);
    await backend.close();
  });
});
