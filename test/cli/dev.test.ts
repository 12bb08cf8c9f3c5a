import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const HELLO = ['examples/hello-world/events.jsonl', '--crews', 'examples/hello-world/dist/crews.js'];

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('live-crew dev and run --ui: the dashboard from the command line', () => {
  it('run --ui serves the dashboard on 127.0.0.1 while the run lasts and changes nothing of its output', () => {
    const plain = cli(['run', ...HELLO]);
    const shown = cli(['run', ...HELLO, '--ui', '0']);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(/^live-crew dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(shown.stdout).toBe(plain.stdout);
    expect(shown.stdout).not.toBe('');
  });

  it('refuses what it cannot do, saying why: no events, events with --stream, no crews, a bad port', () => {
    expect(cli(['dev'])).toMatchObject({ code: 2, stderr: expect.stringContaining('dev needs an events file (or - for stdin), --stream <id> to watch a distributed stream, or --nats-url <url>') });
    expect(cli(['dev', 'x.jsonl', '--stream', 's1'])).toMatchObject({ code: 2, stderr: expect.stringContaining('dev --stream watches a stream over NATS and reads no events file (got x.jsonl)') });
    expect(cli(['dev', 'x.jsonl'])).toMatchObject({ code: 2, stderr: expect.stringContaining('dev <events> needs --crews <path>') });
    expect(cli(['dev', '--stream', 'a.b'])).toMatchObject({ code: 2, stderr: expect.stringContaining("option '--stream <id>' argument 'a.b' is invalid") });
    expect(cli(['run', ...HELLO, '--ui', '70000'])).toMatchObject({ code: 2, stderr: expect.stringContaining('must be a port number, 0-65535') });
  });

  it('says so when the port is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const r = cli(['run', ...HELLO, '--ui', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`live-crew: ConfigError: the dashboard cannot listen on 127.0.0.1:${port} (the port is in use): give another port`);
    } finally {
      taken.close();
    }
  });
});
