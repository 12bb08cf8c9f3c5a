import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MATCH_DAY_CREWS, publishMatchDay, runCli, startRunner, startScheduler, stopAll, type CliProcess } from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
const CHANGED = 'test/fixtures/changed-match-day.js';
// The pundit's simulated model time changes no output (match-day's README).
const FAST = { MATCH_DAY_PUNDIT_MS: '0' };

describe.skipIf(start === undefined)('live-crew replay --stream: a finished stream from JetStream, against the current crews', () => {
  const server = serverForSuite(start!);
  const processes: CliProcess[] = [];
  afterAll(() => stopAll(processes));

  it('re-runs the distributed recording in batch mode: the same crews diverge nowhere, a changed one is named with its JetStream event', async () => {
    const url = server().url;
    // The scheduler broadcasts each merged slice's __context record: those of the file run, record for record.
    const nc = await connect({ servers: url });
    const broadcast: string[] = [];
    nc.subscribe('live.match_42.ctx', { callback: (_error, message) => void broadcast.push(message.string()) });
    publishMatchDay(url, FAST);
    processes.push(startRunner(url, '.*', FAST));
    const scheduler = startScheduler(url, FAST);
    processes.push(scheduler);
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    await nc.flush();
    await nc.close();
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-context-out-'));
    expect(
      runCli(['run', 'examples/match-day/events.jsonl', '--crews', MATCH_DAY_CREWS, '--out', join(dir, 'a.jsonl'), '--errors', join(dir, 'e.jsonl'), '--context-out', join(dir, 'ctx.jsonl')], FAST)
        .status,
    ).toBe(0);
    const inFile = readFileSync(join(dir, 'ctx.jsonl'), 'utf8').trim().split('\n');
    expect(inFile).toHaveLength(4651);
    expect(broadcast).toEqual(inFile);

    const same = runCli(['replay', '--stream', 'match_42', '--crews', MATCH_DAY_CREWS, '--nats-url', url], FAST);
    expect(same.stdout).toBe('replay: no divergence (36 recorded actions, 36 now; 1 recorded errors, 1 now)\n');
    expect(same.status).toBe(0);

    const changed = runCli(['replay', '--stream', 'match_42', '--crews', CHANGED, '--nats-url', url], FAST);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain(
      'changed: action overlay at 2024-05-18T15:11:32.417Z on match_42 (crew graphics.onGoal, slice 1384, event nats:live.match_42.events#610): payload.player: expected "Okafor", got "OKAFOR"',
    );
    expect(changed.stdout.trim().split('\n').at(-1)).toBe('replay: 5 divergences: 4 changed, 1 missing, 0 extra (36 recorded actions, 35 now; 1 recorded errors, 1 now)');
  });

  it('refuses a stream it has no events of, and one without an end marker, saying what a replay needs', () => {
    const url = server().url;
    const missing = runCli(['replay', '--stream', 'never_seen', '--crews', MATCH_DAY_CREWS, '--nats-url', url]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('stream "never_seen" has no events in JetStream (nothing on live.never_seen.events): nothing to replay');
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-stream-'));
    writeFileSync(join(dir, 'open.jsonl'), '{"ts":"2024-05-01T12:00:00Z","kind":"goal","stream_id":"still_open","payload":{}}\n');
    expect(runCli(['publish', join(dir, 'open.jsonl'), '--nats-url', url]).status).toBe(0);
    const open = runCli(['replay', '--stream', 'still_open', '--crews', MATCH_DAY_CREWS, '--nats-url', url]);
    expect(open.status).toBe(1);
    expect(open.stderr).toContain('stream "still_open" has no end-of-stream marker: a replay needs a finished recording');
    const neither = runCli(['replay', '--crews', MATCH_DAY_CREWS]);
    expect(neither.stderr).toContain('replay: give the recorded events file, or --stream <id> for a stream in JetStream (not both)');
  });
});
