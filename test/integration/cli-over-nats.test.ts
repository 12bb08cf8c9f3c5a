import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { ensureLiveStreams } from '../../src/nats.js';
import { natsServer, serverForSuite } from './servers.js';
import { own } from '../../bench/owned-children.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const start = natsServer();

describe.skipIf(start === undefined)('the CLI over NATS: publish, run --transport nats, tail', () => {
  const server = serverForSuite(start!);

  it('runs the match-day crews unchanged over JetStream, with the same actions as file mode', async () => {
    const publish = spawnSync(process.execPath, [CLI, 'publish', 'examples/match-day/events.jsonl', '--nats-url', server().url], { cwd: ROOT, encoding: 'utf8' });
    expect(publish.status).toBe(0);
    expect(publish.stderr).toMatch(/4699 published, 0 skipped/);

    const runner = own(
      spawn(process.execPath, [CLI, 'run', '-', '--crews', 'examples/match-day/dist/crews.js', '--transport', 'nats', '--nats-url', server().url], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const expected = readFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), 'utf8');
    const tail = spawnSync(process.execPath, [CLI, 'tail', 'match_42', '--all', '--count', String(expected.trim().split('\n').length), '--nats-url', server().url], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 150_000,
    });
    let runnerErr = '';
    runner.stderr!.on('data', (chunk) => (runnerErr += String(chunk)));
    const exited = new Promise<number | null>((done) => runner.once('exit', done));
    runner.kill('SIGTERM');
    // It says what it serves (no progress line: stderr is no terminal here), and nothing else.
    expect({ code: await exited, runnerErr }).toEqual({
      code: 0,
      runnerErr: `live-crew: 6 crews on every stream of ${server().url}: events from live.<stream>.events, actions and errors to live.<stream>.actions and .errors; Ctrl-C stops\n`,
    });
    expect(tail.status).toBe(0);
    expect(tail.stdout).toBe(expected);
  });

  it.each(['*', '>', 'a.b', ''])('tail refuses %j as a stream id, with usage exit 2 and no stack', (stream) => {
    const r = spawnSync(process.execPath, [CLI, 'tail', stream, '--nats-url', server().url], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error: command-argument value '.*' is invalid for argument 'stream'\. must match \^\[a-zA-Z0-9_-\]\{1,100\}\$ \(no dots, wildcards or spaces\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('tail of a stream JetStream has never seen says so, then waits', async () => {
    const tail = own(spawn(process.execPath, [CLI, 'tail', 'nobody_here', '--nats-url', server().url], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    tail.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    for (let waited = 0; !stderr.includes('\n') && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const exited = new Promise<number | null>((done) => tail.once('exit', done));
    tail.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('live-crew tail: stream "nobody_here" has no events in JetStream (nothing on live.nobody_here.events); waiting for its actions (Ctrl-C to stop)\n');
  });

  it('tail prints only the JSON records stored there, one per line: a message that could forge a line is refused on stderr, naming it', async () => {
    const nc = await connect({ servers: server().url });
    await ensureLiveStreams(nc);
    const js = jetstream(nc);
    await js.publish('live.forged.actions', '{"kind":"a"}');
    await js.publish('live.forged.actions', 'junk\n{"kind":"forged"}');
    await js.publish('live.forged.actions', '{\n"kind": "b"}');
    await js.publish('live.forged.actions', `${'['.repeat(50_000)}${']'.repeat(50_000)}`);
    await nc.close();
    const tail = spawnSync(process.execPath, [CLI, 'tail', 'forged', '--all', '--count', '4', '--nats-url', server().url], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
    expect(tail.status).toBe(0);
    expect(tail.stdout).toBe('{"kind":"a"}\n{"kind":"b"}\n');
    expect(tail.stderr).toMatch(/live-crew tail: live\.forged\.actions#\d+ refused: not valid JSON.*; not printed/);
    expect(tail.stderr).toMatch(/live-crew tail: live\.forged\.actions#\d+ refused: body(\[0\])+ is nested deeper than 132 levels.*; not printed/);
  });

  it('publish reports invalid lines with file:line and skips events of other streams', () => {
    const r = spawnSync(process.execPath, [CLI, 'publish', '-', '--stream', 'a', '--nats-url', server().url], {
      cwd: ROOT,
      encoding: 'utf8',
      input: '{"ts":"2024-01-01T00:00:00Z","kind":"x","stream_id":"a"}\nnot json\n{"ts":"2024-01-01T00:00:00Z","kind":"x","stream_id":"b"}\n',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/stdin:2: skipped: not valid JSON/);
    expect(r.stderr).toMatch(/stdin:3: skipped: event of stream b, not a/);
    expect(r.stderr).toMatch(/1 published, 2 skipped/);
  });
});
