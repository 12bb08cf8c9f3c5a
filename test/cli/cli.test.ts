import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActionSchema } from '../../src/index.js';

// The built CLI, run as a user runs it (`npm test` builds first).
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const HELLO = join(ROOT, 'examples/hello-world');

function cli(args: string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, LIVE_CREW_SLICE_MS: undefined, ...options.env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'live-crew-cli-'));

describe('live-crew CLI', () => {
  it('run: prints actions on stdout, errors on stderr, exits 0', () => {
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js')]);
    expect(r.code).toBe(0);
    const actions = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; payload: unknown });
    expect(actions.filter((a) => a.kind === 'greeting').map((a) => a.payload)).toEqual([{ message: 'Welcome Ada!' }, { message: 'Welcome Grace!' }]);
    expect(JSON.parse(r.stderr)).toMatchObject({ kind: '__error', payload: { reason: 'invalid_event', crew: 'greeter' } });
  });

  it('prints action lines that ActionSchema, the published schema for consumers, accepts', () => {
    const r = cli(['run', join(ROOT, 'examples/match-day/events.jsonl'), '--crews', join(ROOT, 'examples/match-day/dist/crews.js')]);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(ActionSchema.safeParse(JSON.parse(line)).error).toBeUndefined();
  });

  it('run -: reads events from stdin', () => {
    const input = `${readFileSync(join(HELLO, 'events.jsonl'), 'utf8').split('\n')[0]}\n`;
    const r = cli(['run', '-', '--crews', join(HELLO, 'dist/crews.js')], { input });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"Welcome Ada!"');
  });

  it('run --out --errors --summary: writes files and prints the summary', () => {
    const d = tmp();
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js'), '--out', join(d, 'a.jsonl'), '--errors', join(d, 'e.jsonl'), '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(d, 'a.jsonl'), 'utf8').trim().split('\n')).toHaveLength(13);
    expect(readFileSync(join(d, 'e.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ summary: { events: 7, actions: 13, errors: 1, invalid: 0 } });
  });

  it('reads live-config.yaml from the working directory, and --config names another', () => {
    const d = tmp();
    writeFileSync(join(d, 'live-config.yaml'), 'slice_ms: 0\n');
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js')], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ConfigError: invalid configuration in live-config.yaml:\n {2}slice_ms \(line 1\): must be > 0/);
    writeFileSync(join(d, 'other.yaml'), 'transport: kafka\n');
    expect(cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js'), '--config', join(d, 'other.yaml')]).stderr).toMatch(
      /transport \(line 1\): must be one of file, nats \(the adapters registered for the source port/,
    );
  });

  it('exits 1 for crews that are invalid, naming the problem', () => {
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(ROOT, 'test/cli/fixtures/idle-crew.mjs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CrewDefinitionError: invalid crews \(1 problem\):\n {2}- crew "idle" \(Idle\) has no @OnEvent handler/);
  });

  it('exits 1 for a crews module that exports no crew, or cannot load', () => {
    expect(cli(['run', '-', '--crews', join(ROOT, 'package.json')]).stderr).toMatch(/cannot load crews module/);
    const r = cli(['run', '-', '--crews', join(ROOT, 'test/cli/fixtures/no-crews.mjs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gives no crew: a module exports @Crew classes/);
    const ts = cli(['run', '-', '--crews', join(ROOT, 'examples/hello-world/crews.ts')]);
    expect(ts.code).toBe(1);
    expect(ts.stderr).toMatch(/crews\.ts is TypeScript: compile it with tsc \(experimentalDecorators and emitDecoratorMetadata on\) and give the \.js it emits/);
  });

  it('exits 1 with what to do when --out or --errors cannot be written', () => {
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js'), '--out', '/nonexistent-dir/actions.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('live-crew: OutputError: cannot write actions to /nonexistent-dir/actions.jsonl (output, --out): the folder /nonexistent-dir does not exist; create it first\n');
    const folder = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js'), '--errors', tmpdir()]);
    expect(folder.stderr).toMatch(/OutputError: cannot write error records to .* \(errors, --errors\): it is a folder; name a file in it/);
  });

  it('exits 1 for an events file that does not exist', () => {
    const r = cli(['run', '/nonexistent/events.jsonl', '--crews', join(HELLO, 'dist/crews.js')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/InputError: cannot read events from \/nonexistent\/events.jsonl: ENOENT/);
  });

  it('run --replay: a journal that cannot be read stops the run with exit 1', () => {
    const r = cli(['run', join(HELLO, 'events.jsonl'), '--crews', join(HELLO, 'dist/crews.js'), '--replay', '/nonexistent/journal.jsonl']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/InputError: cannot read the journal to replay, \/nonexistent\/journal.jsonl/);
  });

  it('takes the crews from crews: in live-config.yaml when a command is given no --crews; with neither, says how to give them', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'live-config.yaml'), `crews:\n  - ${join(HELLO, 'dist/crews.js')}\n`);
    const r = cli(['run', join(HELLO, 'events.jsonl')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"message":"Welcome Ada!"');
    expect(cli(['validate'], { cwd: dir })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 3 crews/) });
    // LIVE_CREW_CREWS, paths separated by the path delimiter, wins over the file.
    const both = [join(HELLO, 'dist/crews.js'), join(ROOT, 'examples/match-day/dist/crews.js')].join(delimiter);
    expect(cli(['validate'], { cwd: dir, env: { LIVE_CREW_CREWS: both } })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 9 crews/) });
    // --crews wins over the file.
    expect(cli(['validate', '--crews', join(ROOT, 'examples/match-day/dist/crews.js')], { cwd: dir })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 6 crews/) });
    expect(cli(['graph'], { cwd: tmp() })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('error: graph: no crews: give --crews <path> (a compiled module, a .crew.yaml file or a folder of either), or name them under crews: in live-config.yaml'),
    });
  });

  it('validate --events checks the crews against a file: invalid records and refused payloads by line, a kind typo with the nearest kind, kinds nobody takes', () => {
    const dir = tmp();
    const order = (amount: unknown) => JSON.stringify({ ts: '2024-05-01T12:00:00.000Z', kind: 'order_placed', stream_id: 's', payload: { amount } });
    const refund = JSON.stringify({ ts: '2024-05-01T12:00:01.000Z', kind: 'refund', stream_id: 's', payload: {} });
    writeFileSync(join(dir, 'events.jsonl'), [order(12), order('twelve'), refund, ...Array.from({ length: 7 }, (_, i) => `not json ${i}`), order(3)].join('\n'));
    const r = cli(['validate', '--crews', join(ROOT, 'test/fixtures/mistaken-crews.js'), '--events', 'events.jsonl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('- crew orders takes kind order_placd (did you mean order_placed?): no event of events.jsonl has it');
    expect(r.stderr).toContain('- events.jsonl:2: payload rejected by billing.onOrder: amount: Invalid input: expected number, received string');
    expect(r.stderr).toMatch(/- events\.jsonl:1: payload rejected by strict\.onOrder: currency: /);
    expect(r.stderr).toContain('- events.jsonl:4: not valid JSON');
    // Five listed, the rest counted.
    expect(r.stderr).toContain('- events.jsonl:8: not valid JSON');
    expect(r.stderr).not.toContain('events.jsonl:9:');
    expect(r.stderr).toContain('- events.jsonl:8: not valid JSON: Unexpected token \'o\', "not json 4" is not valid JSON\n  and 2 more records of events.jsonl that are no valid event\n');
    // What may be intended is a warning: a kind this sample lacks, a kind nobody takes.
    expect(r.stderr).toContain('warning: crew auditor takes kind audit: no event of events.jsonl has it');
    expect(r.stderr).toContain('warning: events of events.jsonl have kind refund, which no crew takes');
    expect(r.stderr).toMatch(/^live-crew validate: 12 problems$/m);
    // A file that fits its crews is ok, and says what it held.
    const matchDay = join(ROOT, 'examples/match-day');
    expect(cli(['validate', '--crews', 'dist/crews.js', '--config', 'live-config.yaml', '--events', 'events.jsonl'], { cwd: matchDay })).toMatchObject({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(/, events\.jsonl: 4699 events of 7 kinds\n$/),
    });
    expect(cli(['validate', '--crews', join(ROOT, 'test/fixtures/mistaken-crews.js'), '--events', 'missing.jsonl'], { cwd: dir })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('- cannot read events from missing.jsonl: ENOENT'),
    });
  });

  it('run ends with a warning per crew that never ran and why: no event of its kinds (with the nearest kind), or its payload schema refused them all', () => {
    const dir = tmp();
    const order = (amount: unknown) => JSON.stringify({ ts: '2024-05-01T12:00:00.000Z', kind: 'order_placed', stream_id: 's', payload: { amount } });
    writeFileSync(join(dir, 'events.jsonl'), [order(12), order(3), JSON.stringify({ ts: '2024-05-01T12:00:01.000Z', kind: 'refund', stream_id: 's', payload: {} })].join('\n'));
    const r = cli(['run', 'events.jsonl', '--crews', join(ROOT, 'test/fixtures/mistaken-crews.js')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr
      .split('\n')
      .filter((line) => line.includes('"level":"warn"'))
      .map((line) => (JSON.parse(line) as { crew: string; msg: string }).msg);
    // In run order: ties by crew id.
    expect(warnings).toEqual([
      "crew auditor never ran: no event of kind audit came (the input's kinds: order_placed, refund)",
      "crew orders never ran: no event of kind order_placd (did you mean order_placed?) came (the input's kinds: order_placed, refund)",
      'crew strict never ran: its payload schema refused 2 events (invalid_event records)',
    ]);
    expect(r.stdout).toContain('"kind":"billed"');
  });

  it('exits 2 on usage errors', () => {
    expect(cli(['run', 'x.jsonl']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
    expect(cli(['run', 'x.jsonl', '--crews', 'c.js', '--bogus']).code).toBe(2);
    // A worker's id names its key in the pool bucket: nothing that would split or widen it.
    for (const id of ['bad id', 'w.1', 'w*', '>', '']) {
      const r = cli(['worker', '--crews', 'c.js', '--id', id]);
      expect(r.code, id).toBe(2);
      expect(r.stderr, id).toContain(`option '--id <id>' argument '${id}' is invalid`);
    }
    // acl and a runner serve a pool, or one stream: they are told which.
    expect(cli(['acl', '--crews', 'c.js'])).toMatchObject({ code: 2, stderr: expect.stringContaining('acl needs --stream <id>') });
    expect(cli(['acl', '--crews', 'c.js', '--pool', '--stream', 's1'])).toMatchObject({ code: 2, stderr: expect.stringContaining("option '--pool' cannot be used with option '--stream <id>'") });
    expect(cli(['runner', '--crews', 'c.js'])).toMatchObject({ code: 2, stderr: expect.stringContaining('runner needs --group <name>') });
    expect(cli(['runner', '--crews', 'c.js', '--group', 'slow', '--stream', 's1'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("option '--group <name>' cannot be used with option '--stream <id>'"),
    });
    expect(cli(['runner', '--crews', 'c.js', '--group', 'a.b'])).toMatchObject({ code: 2, stderr: expect.stringContaining("option '--group <name>' argument 'a.b' is invalid") });
    // An option the other mode would ignore is refused, not dropped without a word.
    expect(cli(['runner', '--crews', 'c.js', '--stream', 's1', '--id', 'r1'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("option '--id <id>' cannot be used with option '--stream <id>'"),
    });
  });

  it("acl --stream gives each runner its crews' work groups from --config: a runner of a group's crew reads that group's work, and no other", () => {
    const config = join(mkdtempSync(join(tmpdir(), 'live-crew-acl-')), 'live-config.yaml');
    writeFileSync(config, 'runners:\n  slow:\n    crews: mull\n');
    const crews = 'test/integration/fixtures/group-crews.js';
    const r = cli(['acl', '--crews', crews, '--stream', 's1', '--config', config, '--runner', 'slow=mull', '--runner', 'fast=^(?!mull$).*', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { users } = JSON.parse(r.stdout) as { users: { user: string; permissions: { publish: { allow: string[] } } }[] };
    const reads = (user: string) => users.find((u) => u.user === user)!.permissions.publish.allow.filter((s) => s.includes('.work.'));
    expect(reads('runner_slow_s1')).toEqual(['$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.s1.work.slow']);
    expect(reads('runner_fast_s1')).toEqual(['$JS.API.CONSUMER.CREATE.LIVE_SLICES.*.live.s1.work.default']);
    expect(reads('scheduler_s1')).toEqual(['live.s1.work.*']);
  });

  it('pool: a NATS server that is not there exits 1, naming it', () => {
    const r = cli(['pool', '--nats-url', 'nats://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot connect to NATS at nats://127.0.0.1:1');
  });

  it('has --help on every command and --version, exiting 0', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(cli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('run [options] <events>') });
    expect(cli(['run', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('--crews <path>') });
  });
});
