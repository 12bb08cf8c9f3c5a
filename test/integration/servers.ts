/**
 * Real servers for integration suites: each suite starts its own nats-server (JetStream) or
 * redis-server on a free loopback port with a temp data dir, and can stop and restart it to
 * inject faults. A missing binary skips the suite with a loud notice, except under CI=true or
 * LIVE_CREW_REQUIRE_SERVERS=1, where it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Where a server binary is: on PATH or in /usr/sbin (Debian puts nats-server there). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => (socket.destroy(), resolve(false)));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not start within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A server a suite owns: its URL, and stop/start to inject faults (data survives in its dir). */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

function ownedServer(binary: string, args: (port: number, dir: string) => string[], scheme: string): () => Promise<TestServer> {
  return async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-server-'));
    let child: ChildProcess | undefined;
    const server: TestServer = {
      url: `${scheme}://127.0.0.1:${port}`,
      port,
      async start() {
        child = spawn(binary, args(port, dir), { stdio: 'ignore' });
        await waitForPort(port);
      },
      async stop() {
        const running = child;
        child = undefined;
        if (running === undefined || running.exitCode !== null) return;
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGTERM');
        await exited;
      },
    };
    await server.start();
    return server;
  };
}

/** Starts `nats-server -js` (or, for fault tests, without JetStream) on a free port with its own store dir; undefined when absent. */
export function natsServer(options: { jetstream?: boolean; args?: readonly string[] } = {}): (() => Promise<TestServer>) | undefined {
  const binary = requireBinary('nats-server');
  const js = options.jetstream === false ? [] : ['-js'];
  const extra = options.args ?? [];
  return binary === undefined ? undefined : ownedServer(binary, (port, dir) => [...js, '-a', '127.0.0.1', '-p', String(port), '-sd', dir, ...extra], 'nats');
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
