import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { ConfigError, ConnectionError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** The NATS settings of the configuration. */
export type NatsSettings = Pick<LiveCrewConfig, 'nats_url' | 'nats_user' | 'nats_pass' | 'nats_token' | 'nats_creds' | 'nats_tls_ca' | 'nats_tls_cert' | 'nats_tls_key'>;

/**
 * Connection options from the configuration: URL, user and password, token or credentials file,
 * and TLS files. Every NATS connection live-crew makes is built here.
 *
 * @throws ConfigError for a credentials file that cannot be read
 */
export function natsConnectOptions(settings: NatsSettings): NodeConnectionOptions {
  // Long-running processes ride out a server restart: reconnect for as long as it takes. The
  // client's requests (KV reads and conditional writes, a publish gone the slow way: see
  // `JetStreamPublisher`) would capture stack traces with async traces on, needed only if one
  // fails; a failed write is still named, with its subject, by `untilStored`.
  const options: NodeConnectionOptions = { servers: settings.nats_url, name: 'live-crew', maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true };
  if (settings.nats_user !== null) Object.assign(options, { user: settings.nats_user, pass: settings.nats_pass ?? '' });
  if (settings.nats_token !== null) options.token = settings.nats_token;
  if (settings.nats_creds !== null) options.authenticator = credsAuthenticator(readCreds(settings.nats_creds));
  const tls = { caFile: settings.nats_tls_ca, certFile: settings.nats_tls_cert, keyFile: settings.nats_tls_key };
  if (Object.values(tls).some((file) => file !== null)) {
    options.tls = Object.fromEntries(Object.entries(tls).filter(([, file]) => file !== null));
  }
  return options;
}

/**
 * Connects to NATS. The first connection must succeed (reconnects are forever once it has):
 * a refused or unreachable server fails at once, saying where and what to do.
 *
 * @throws ConnectionError naming the server's URL
 */
export async function connectNats(options: NodeConnectionOptions): Promise<NatsConnection> {
  try {
    return await connect(options);
  } catch (error) {
    const url = Array.isArray(options.servers) ? options.servers.join(', ') : String(options.servers);
    throw new ConnectionError(messages.natsUnreachable(url, describeThrown(error)), { cause: error });
  }
}

function readCreds(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(messages.natsCredsUnreadable(path, describeThrown(error)), { cause: error });
  }
}
