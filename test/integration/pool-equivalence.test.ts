import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, stopAll, waitUntil, type CliProcess } from './distributed-cluster.js';
import { describeStreamState, expectFileModeOutput, fileModeOutput, finishedOf, finishedStreams, GROUP_CREWS, groupConfig, storedOf } from './pool-helpers.js';
import { natsServer, serverForSuite } from './servers.js';

// The distributed-equivalence property (test/framework/distributed) over a real pool: for any
// streams, any number of workers (and runners of a group), SIGKILLed at any points and replaced,
// every stream's actions, errors and context equal its file-mode run.

const start = natsServer();
const POOL_CREWS = 'test/integration/fixtures/pool-crews.js';
const ENV = { LIVE_CREW_LEASE_MS: '1500', LIVE_CREW_LOG_LEVEL: 'info' };
const T0 = Date.parse('2024-05-18T15:00:00Z');

/** One generated case: the streams' events (kinds and time steps), the pool, the kills. */
const poolCase = fc.record({
  streams: fc.array(fc.array(fc.record({ kind: fc.constantFrom('tick', 'tick', 'goal', 'bad'), stepMs: fc.integer({ min: 0, max: 900 }) }), { minLength: 5, maxLength: 30 }), {
    minLength: 2,
    maxLength: 6,
  }),
  workers: fc.integer({ min: 1, max: 2 }),
  /** Runners of the group `slow` (hosting the slow crew); 0: no group, every crew in the workers. */
  runners: fc.integer({ min: 0, max: 2 }),
  /** When (a share of the actions stored) a member is killed, and which (an index into the members). */
  kills: fc.array(fc.record({ at: fc.double({ min: 0.1, max: 0.8, noNaN: true }), victim: fc.nat() }), { minLength: 1, maxLength: 2 }),
});

describe.skipIf(start === undefined)('a pool gives each stream its file-mode output, whatever the streams, members and kills (issue 31)', () => {
  const server = serverForSuite(start!);
  const running: CliProcess[] = [];
  afterEach(async () => {
    await stopAll(running.splice(0));
  });
  let run = 0;
  /** Kills that landed before the run's output was complete: the property must not hold only for late ones. */
  let midRun = 0;

  it('holds for generated streams, pools and SIGKILLs', async () => {
    await fc.assert(
      fc.asyncProperty(poolCase, async ({ streams, workers, runners, kills }) => {
        run += 1;
        const dir = mkdtempSync(join(tmpdir(), 'live-crew-pool-property-'));
        const ids = streams.map((_, s) => `pq${run}x${s}`);
        // Interleaved as they would arrive: each stream's events in its own time order.
        const lines = streams.flatMap((events, s) => {
          let ts = T0;
          return events.map((event, i) => {
            ts += event.stepMs;
            return { ts, line: JSON.stringify({ ts: new Date(ts).toISOString(), kind: event.kind, stream_id: ids[s], payload: { minute: i } }) };
          });
        });
        lines.sort((a, b) => a.ts - b.ts);
        const file = join(dir, 'events.jsonl');
        writeFileSync(file, `${lines.map(({ line }) => line).join('\n')}\n`);
        const crews = runners > 0 ? GROUP_CREWS : POOL_CREWS;
        const config = runners > 0 ? ['--config', groupConfig()] : [];
        const expected = fileModeOutput(file, crews);
        const member = (args: string[]) => {
          const p = startCli([...args, '--crews', crews, ...config, '--nats-url', server().url], ENV);
          running.push(p);
          return p;
        };
        const spawnOf = [...Array.from({ length: workers }, () => ['worker']), ...Array.from({ length: runners }, () => ['runner', '--group', 'slow'])];
        const members = spawnOf.map((args) => ({ args, process: member(args) }));
        // Published in real time over a few seconds, so the kills land while streams are open.
        const spanMs = Math.max(...lines.map(({ ts }) => ts)) - T0;
        const publisher = startCli(['publish', file, '--end', '--pace', String(Math.max(1, spanMs / 3000)), '--nats-url', server().url]);
        running.push(publisher);
        const killed: string[] = [];
        for (const kill of [...kills].sort((a, b) => a.at - b.at)) {
          const point = Math.floor(expected.actions.length * kill.at);
          await waitUntil(async () => (await storedOf(server().url, 'LIVE_ACTIONS', ids)).length >= point || (await finishedStreams(server().url, ids)) === ids.length, `${point} actions stored`);
          const stored = (await storedOf(server().url, 'LIVE_ACTIONS', ids)).length;
          if (stored < expected.actions.length) midRun += 1;
          const victim = members[kill.victim % members.length]!;
          console.info(`pool property run ${run}: ${victim.args.join(' ')} killed at ${stored} of ${expected.actions.length} actions (${workers} workers, ${runners} runners)`);
          victim.process.child.kill('SIGKILL');
          await victim.process.exited;
          killed.push(`${victim.args.join(' ')} at ${stored} actions:\n${victim.process.stderr()}`);
          victim.process = member(victim.args);
        }
        expect(await publisher.exited, publisher.stderr()).toBe(0);
        await waitUntil(async () => (await finishedStreams(server().url, ids)) === ids.length, 'every stream finished', 60_000).catch(async (error: unknown) => {
          // What each member logged and the state of each stream left open, for the counterexample fast-check prints.
          for (const [i, { args, process }] of members.entries())
            writeFileSync(
              join(dir, `member-${i}.log`),
              `${args.join(' ')} (pid ${process.child.pid}, ${process.child.exitCode === null && process.child.signalCode === null ? 'running' : `exited ${process.child.exitCode ?? process.child.signalCode}`})\n${process.stderr()}`,
            );
          for (const [i, log] of killed.entries()) writeFileSync(join(dir, `killed-${i}.log`), log);
          const finished = await finishedOf(server().url, ids);
          for (const id of ids) if (!finished.has(id)) writeFileSync(join(dir, `stream-${id}.txt`), await describeStreamState(server().url, id));
          throw new Error(`${(error as Error).message}; the members' logs are in ${dir}`);
        });
        await expectFileModeOutput(server().url, expected, ids, new Map(ids.map((id, s) => [id, streams[s]!.length])), { order: runners > 0 ? 'lane' : 'stream' });
        await stopAll(running.splice(0));
      }),
      { numRuns: 4, endOnFailure: true, ...(process.env['POOL_PROPERTY_SEED'] ? { seed: Number(process.env['POOL_PROPERTY_SEED']), path: process.env['POOL_PROPERTY_PATH'] } : {}) },
    );
    expect(midRun, 'kills that landed mid-run').toBeGreaterThan(0);
  });
});
