/**
 * Real servers for integration suites: each suite starts its own nats-server (JetStream) or
 * redis-server on a free loopback port with a temp data dir, and can stop and restart it to
 * inject faults. A missing binary skips the suite with a loud notice, except under CI=true or
 * LIVE_CREW_REQUIRE_SERVERS=1, where it fails.
 */
import { afterAll, beforeAll } from 'vitest';
import { findBinary, natsServerArgs, ownedServer, type LocalServer as TestServer } from '../../bench/local-servers.js';

export { findBinary, type TestServer };

/** Whether suites must fail rather than skip when a server is missing. */
export const serversRequired = process.env['CI'] === 'true' || process.env['LIVE_CREW_REQUIRE_SERVERS'] === '1';

/** The binary, or undefined after a loud notice (or an error when servers are required). */
export function requireBinary(name: string, required = serversRequired): string | undefined {
  const path = findBinary(name);
  if (path !== undefined) return path;
  const notice = `${name} not found on PATH or in /usr/sbin: its integration suites are SKIPPED (apt-get install -y ${name})`;
  if (required) throw new Error(`${notice}; CI=true or LIVE_CREW_REQUIRE_SERVERS=1 requires it`);
  process.stderr.write(`\n*** ${notice} ***\n\n`);
  return undefined;
}

/** Starts `nats-server -js` (or, for fault tests, without JetStream) on a free port with its own store dir; undefined when absent. */
export function natsServer(options: { jetstream?: boolean; args?: readonly string[] } = {}): (() => Promise<TestServer>) | undefined {
  const binary = requireBinary('nats-server');
  return binary === undefined ? undefined : ownedServer(binary, natsServerArgs(options), 'nats');
}

/** Starts `redis-server` on a free port, persisting to its own dir, or undefined when absent. */
export function redisServer(): (() => Promise<TestServer>) | undefined {
  const binary = requireBinary('redis-server');
  return binary === undefined ? undefined : ownedServer(binary, (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], 'redis');
}

/** Starts a server before the suite's tests and stops it after; call the result for the running server. */
export function serverForSuite(start: () => Promise<TestServer>): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}
