import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsConnectOptions } from '../../src/adapters/nats/nats-connect.js';
import { CONFIG_DEFAULTS } from '../../src/framework/config/config-schema.js';
import { ConfigError } from '../../src/framework/errors.js';

describe('natsConnectOptions', () => {
  it('connects to nats_url with nothing else by default', () => {
    expect(natsConnectOptions(CONFIG_DEFAULTS)).toEqual({ servers: 'nats://127.0.0.1:4222', name: 'live-crew', maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true });
  });

  it('passes user and password, token, and only the TLS files that are set', () => {
    const options = natsConnectOptions({ ...CONFIG_DEFAULTS, nats_user: 'crew', nats_pass: 'secret', nats_token: 't0k', nats_tls_ca: '/etc/ca.pem' });
    expect(options).toMatchObject({ user: 'crew', pass: 'secret', token: 't0k', tls: { caFile: '/etc/ca.pem' } });
    expect(Object.keys(options.tls!)).toEqual(['caFile']);
  });

  it('reads a credentials file into an authenticator, and names a file it cannot read', () => {
    const creds = join(mkdtempSync(join(tmpdir(), 'live-crew-creds-')), 'user.creds');
    writeFileSync(creds, '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n');
    expect(typeof natsConnectOptions({ ...CONFIG_DEFAULTS, nats_creds: creds }).authenticator).toBe('function');
    expect(() => natsConnectOptions({ ...CONFIG_DEFAULTS, nats_creds: '/nonexistent/user.creds' })).toThrow(ConfigError);
    expect(() => natsConnectOptions({ ...CONFIG_DEFAULTS, nats_creds: '/nonexistent/user.creds' })).toThrow(/cannot read nats_creds file \/nonexistent\/user.creds/);
  });
});
