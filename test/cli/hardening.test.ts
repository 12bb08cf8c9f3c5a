import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { own } from '../../bench/owned-children.js';

// The built CLI against crews that misbehave in every way a handler can (`npm test` builds first).
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const HOSTILE = join(import.meta.dirname, 'fixtures/hostile-crews.js');

const event = (i: number, kind: string, payloadJson = '{}') => `{"ts":"2024-05-01T12:00:${String(i).padStart(2, '0')}.000Z","kind":"${kind}","stream_id":"m1","payload":${payloadJson}}`;

function run(lines: readonly string[], args: readonly string[] = []) {
  const path = join(mkdtempSync(join(tmpdir(), 'live-crew-hostile-')), 'events.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const result = spawnSync(process.execPath, [CLI, 'run', path, '--crews', HOSTILE, ...args], { encoding: 'utf8', timeout: 150_000 });
  const records = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { kind: string; payload: { reason: string; crew?: string; message: string; source?: string } });
  return {
    code: result.status,
    actions: result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { kind: string; payload: { kind?: string } }),
    errors: records.filter((r) => r.kind === '__error'),
    stderr: result.stderr,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 150_000) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a run facing hostile input and crews (issue 10)', () => {
  it("turns every handler fault into that crew's error record, fails a call that can never settle, and loses nothing else", () => {
    const kinds = ['throw_unprintable', 'throw_bare', 'throw_getter', 'float', 'timer_throw', 'late_emit'];
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const lines = [...kinds.map((kind, i) => event(i, kind)), event(10, 'deep', deep), event(11, 'huge_number', '{"n":1e400}'), event(12, 'tick'), event(13, 'hang'), event(14, 'tick')];
    const r = run(lines);

    // The run went on to the end: every valid event reached the steady crew, in order.
    expect(r.actions.filter((a) => a.kind === 'seen').map((a) => a.payload.kind)).toEqual([...kinds, 'tick', 'hang', 'tick']);
    expect(r.actions.some((a) => a.kind === 'too_late')).toBe(false);
    const byCrew = (crew: string) => r.errors.filter((e) => e.payload.crew === crew).map((e) => [e.payload.reason, e.payload.message]);
    expect(byCrew('thrower')).toEqual([
      ['handler_error', 'thrower.unprintable threw: (a thrown Object that cannot be shown)'],
      ['handler_error', 'thrower.bare threw: (an object without a prototype)'],
      ['handler_error', 'thrower.getter threw: (a thrown Error that cannot be shown)'],
    ]);
    expect(byCrew('leaker')).toEqual(
      expect.arrayContaining([
        ['handler_error', expect.stringMatching(/^leaker\.float: work it left running failed after the call .*: nobody awaited me$/)],
        ['handler_error', expect.stringMatching(/^leaker\.timer: work it left running failed after the call .*: thrown from a timer$/)],
        ['handler_error', 'leaker: emit after the handler finished was ignored; await your work inside the handler'],
      ]),
    );
    expect(byCrew('hang')).toEqual([['handler_error', expect.stringMatching(/^hang\.on returned a promise that can never settle/)]]);
    expect(r.errors.filter((e) => e.payload.reason === 'invalid_event').map((e) => [e.payload.source?.replace(/.*:/, ''), e.payload.message])).toEqual([
      ['7', expect.stringMatching(/payload(\[0\]){64} is nested deeper than 64 levels \(payload_max_depth\)/)],
      ['8', 'invalid event: payload.n is Infinity (a number out of range)'],
    ]);
    // A call that never finished makes the exit code say so.
    expect(r.stderr).toContain('live-crew: 1 handler call(s) never finished and were failed (see their handler_error records)');
    expect(r.code).toBe(1);
  });

  it('stops on SIGTERM within stop_timeout_ms even while a call hangs and input stays open', async () => {
    const child = own(spawn(process.execPath, [CLI, 'run', '-', '--crews', HOSTILE, '--live'], { env: { ...process.env, LIVE_CREW_STOP_TIMEOUT_MS: '300' } }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.write(`${event(0, 'tick')}\n`);
    await until(() => stdout.includes('"kind":"tick"'));
    child.stdin.write(`${event(1, 'hang')}\n`);
    // The steady crew saw the event: the hang crew's call on it has begun too.
    await until(() => stdout.includes('"kind":"hang"'));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/"reason":"handler_error".*hang\.on was still running 300 ms after the app began to stop \(stop_timeout_ms\)/);
  });

  it('fails a call that can never settle even while /metrics is served (the exporter keeps nothing waiting)', () => {
    const r = run([event(0, 'tick'), event(1, 'hang'), event(2, 'tick')], ['--metrics-port', '0']);
    expect(r.actions.map((a) => a.payload.kind)).toEqual(['tick', 'hang', 'tick']);
    expect(r.errors.map((e) => [e.payload.crew, e.payload.reason])).toEqual([['hang', 'handler_error']]);
    expect(r.code).toBe(1);
  });

  it('exits 0 when every call finished, whatever they threw', () => {
    const r = run([event(0, 'throw_bare'), event(1, 'tick')]);
    expect(r.code).toBe(0);
    expect(r.actions.map((a) => a.payload.kind)).toEqual(['throw_bare', 'tick']);
  });
});

describe('files a run reads and writes (issue 28)', () => {
  const cliRun = (args: readonly string[], cwd: string) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 150_000 });

  it('refuses two options naming one file, links resolved, with usage exit 2 and nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-files-'));
    const events = `${event(1, 'tick')}\n${event(2, 'tick')}\n`;
    writeFileSync(join(dir, 'ev.jsonl'), events);
    writeFileSync(join(dir, 'journal.jsonl'), '{"decision":"tick:1:0"}\n');
    symlinkSync(join(dir, 'ev.jsonl'), join(dir, 'alias.jsonl'));
    linkSync(join(dir, 'ev.jsonl'), join(dir, 'hard.jsonl'));
    mkdirSync(join(dir, 'sub'));
    for (const [args, clash] of [
      [['--out', 'ev.jsonl'], /the events file \(input\) and --out \(output\) name the same file \(ev\.jsonl\)/],
      [['--out', './sub/../ev.jsonl'], /the events file \(input\) and --out \(output\) name the same file/],
      [['--out', 'alias.jsonl'], /the events file \(input\) and --out \(output\) name the same file \(alias\.jsonl\)/],
      [['--out', 'hard.jsonl'], /the events file \(input\) and --out \(output\) name the same file \(hard\.jsonl\)/],
      [['--out', 'o.jsonl', '--errors', 'o.jsonl'], /--out \(output\) and --errors \(errors\) name the same file \(o\.jsonl\)/],
      [['--replay', 'journal.jsonl', '--journal', 'journal.jsonl'], /--journal \(journal\) and --replay \(replay\) name the same file/],
      [['--context-out', 'ev.jsonl'], /the events file \(input\) and --context-out \(context_out\) name the same file/],
    ] as const) {
      const r = cliRun(['run', 'ev.jsonl', '--crews', HOSTILE, ...args], dir);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(clash);
      expect(readFileSync(join(dir, 'ev.jsonl'), 'utf8')).toBe(events);
      expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe('{"decision":"tick:1:0"}\n');
      expect(existsSync(join(dir, 'o.jsonl'))).toBe(false);
    }
    // A device is no file a write destroys: both outputs may go to /dev/null.
    expect(cliRun(['run', 'ev.jsonl', '--crews', HOSTILE, '--out', '/dev/null', '--errors', '/dev/null'], dir).status).toBe(0);
    const replay = cliRun(['replay', 'ev.jsonl', '--crews', HOSTILE, '--expected', 'alias.jsonl', '--update'], dir);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(/the events file and --expected name the same file/);
    expect(readFileSync(join(dir, 'ev.jsonl'), 'utf8')).toBe(events);
  });
});

describe('a crew module that throws what cannot be shown (issue 28)', () => {
  it.each([
    ['a Proxy trapping every operation', "const t = () => { throw new Error('trapped'); }; throw new Proxy({}, { get: t, getPrototypeOf: t, has: t, ownKeys: t, getOwnPropertyDescriptor: t });"],
    ['a revoked Proxy', 'const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy;'],
    ['an object whose toString throws', "throw { toString() { throw new Error('no'); }, [Symbol.toPrimitive]() { throw new Error('no'); } };"],
  ])('is refused at start naming the module, whatever it threw: %s', (_name, body) => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-throwing-'));
    writeFileSync(join(dir, 'crews.mjs'), `${body}\n`);
    writeFileSync(join(dir, 'events.jsonl'), `${event(1, 'tick')}\n`);
    const r = spawnSync(process.execPath, [CLI, 'run', join(dir, 'events.jsonl'), '--crews', join(dir, 'crews.mjs')], { encoding: 'utf8', timeout: 150_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/live-crew: CrewDefinitionError: .*crews\.mjs/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
