/**
 * Throwaway local servers (nats-server, redis-server) for benchmarks and integration tests: each
 * on a free loopback port with a temp data dir, stoppable and restartable to inject faults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { currentOwner, ownAs } from './owned-children.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where a server binary is: on PATH or in /usr/sbin (Debian puts nats-server there). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
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
      const settle = (open: boolean) => {
        socket.destroy();
        resolve(open);
      };
      socket.once('connect', () => settle(true));
      socket.once('error', () => settle(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not start within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A local server: its URL, and stop/start to inject faults (data survives in its dir). */
export interface LocalServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a server binary on a free port with its own data dir; stop and start it again at will. */
export function ownedServer(binary: string, args: (port: number, dir: string) => string[], scheme: string): () => Promise<LocalServer> {
  return async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-server-'));
    // Restarted by a test or not, the server is its creator's (a suite's, or a test's).
    const creator = currentOwner();
    let child: ChildProcess | undefined;
    const server: LocalServer = {
      url: `${scheme}://127.0.0.1:${port}`,
      port,
      async start() {
        child = ownAs(spawn(binary, args(port, dir), { stdio: 'ignore' }), creator);
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

/** The arguments of `nats-server` with JetStream (unless `jetstream` is false) for a port and store dir. */
export function natsServerArgs(options: { jetstream?: boolean; args?: readonly string[] } = {}): (port: number, dir: string) => string[] {
  const js = options.jetstream === false ? [] : ['-js'];
  return (port, dir) => [...js, '-a', '127.0.0.1', '-p', String(port), '-sd', dir, ...(options.args ?? [])];
}
