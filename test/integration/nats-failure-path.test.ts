import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsServer, serverForSuite } from './servers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const start = natsServer({ jetstream: false });

const runOver = (url: string) =>
  spawnSync(process.execPath, [CLI, 'run', '-', '--crews', 'examples/hello-world/dist/crews.js', '--transport', 'nats', '--nats-url', url], {
    cwd: ROOT,
    encoding: 'utf8',
    input: '',
    timeout: 150_000,
  });

describe.skipIf(start === undefined)('run --transport nats when NATS cannot serve it (issue 10)', () => {
  const server = serverForSuite(start!);

  it('fails at once against a server without JetStream, rather than retrying, saying what to do, exit 1', () => {
    const started = Date.now();
    const r = runOver(server().url);
    // Writes are retried for two minutes (GIVE_UP_AFTER_MS) while a server is away: failing well
    // inside that, on any machine, shows the missing JetStream is not taken for a server away.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.status).toBe(1);
    // What it set out to do, then why it cannot.
    expect(r.stderr).toMatch(/^live-crew: 3 crews on every stream of .*; Ctrl-C stops\nlive-crew: ConnectionError: the NATS server at .* has no JetStream \(.*\): start nats-server with -js/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails when nothing listens at the URL, naming it', () => {
    const r = runOver('nats://127.0.0.1:1');
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').slice(1).join('\n')).toBe(
      'live-crew: ConnectionError: cannot connect to NATS at nats://127.0.0.1:1: connection refused. Is nats-server running there (with -js)? Set nats_url (LIVE_CREW_NATS_URL) or --nats-url.\n',
    );
  });
});
