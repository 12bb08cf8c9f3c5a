import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../bench/local-servers.js';
import { LOGGER, type CrewClass, type Logger } from '../../src/index.js';
import { runDistributedRunner } from '../../src/nats.js';
import { MATCH_DAY_CREWS, ROOT, runCli, startCli, startRunner, startScheduler, stopAll, waitUntil } from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();

describe.skipIf(start === undefined)('a runner built in code', () => {
  const server = serverForSuite(start!);

  it('binds its ports as createLiveCrewApp does: a provider for a port token replaces the default; a provided service gets onStart and onStop', async () => {
    const { crews } = (await import(pathToFileURL(join(ROOT, MATCH_DAY_CREWS)).href)) as { crews: CrewClass[] };
    const lines: string[] = [];
    const at = (level: string) => (_fields: object, message: string) => void lines.push(level === 'info' ? message : `${level}: ${message}`);
    const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
    const stop = new AbortController();
    const running = runDistributedRunner({
      crews,
      crewsModule: join(ROOT, MATCH_DAY_CREWS),
      streamId: 'provided',
      selector: /^stats$/,
      configFile: false,
      env: {},
      config: { nats_url: server().url },
      providers: [
        { token: LOGGER, useValue: logger },
        { token: 'odds feed', useValue: { onStart: () => void lines.push('feed started'), onStop: () => void lines.push('feed stopped') } },
      ],
      signal: stop.signal,
    });
    // A runner that fails says why at once, not after the wait's timeout.
    const failed = running.then(() => Promise.reject(new Error('the runner ended before it logged')));
    const logged = waitUntil(() => lines.some((line) => line === 'stream provided: hosting stats'), 'the runner logging through the provided logger').catch((error: Error) => {
      throw new Error(`${error.message}; it logged: ${JSON.stringify(lines)}`);
    });
    await Promise.race([logged, failed]);
    // Stopped at once, while it may still be making its consumers: it must end all the same.
    stop.abort();
    await running;
    expect(lines.filter((line) => line.startsWith('feed'))).toEqual(['feed started', 'feed stopped']);
  });
});

describe.skipIf(start === undefined)('the scheduler and runner commands refuse bad input clearly', () => {
  const server = serverForSuite(start!);
  const runner = (stream: string, selector: string) => runCli(['runner', '--crews', MATCH_DAY_CREWS, '--stream', stream, '--selector', selector, '--nats-url', server().url]);

  it('a selector that is no regex, or matches no crew', () => {
    expect(runner('s1', '(')).toMatchObject({ status: 1, stderr: expect.stringMatching(/--selector "\(" is not a regular expression/) });
    expect(runner('s1', 'nobody')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/selector .*nobody.* matches no crew \(the crews are: commentator, graphics, pundit, referee_watch, score_tracker, stats\)/),
    });
  });

  it('kv_backend: memory, which cannot share context between processes, naming what to use', () => {
    const result = runCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 's1', '--nats-url', server().url], { LIVE_CREW_KV_BACKEND: 'memory' });
    expect(result).toMatchObject({ status: 1, stderr: expect.stringMatching(/kv_backend: memory keeps the context inside one process.*use kv_backend: jetstream/) });
  });

  it('a retention too short for the checkpoints, naming the key and the least safe value', () => {
    const result = runCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 's1', '--nats-url', server().url], { LIVE_CREW_JOURNAL_RETENTION_MS: '60000', LIVE_CREW_CHECKPOINT_SLICES: '100' });
    expect(result).toMatchObject({ status: 1, stderr: expect.stringMatching(/journal_retention_ms 60000 is too short for a scheduler's checkpoints: .*set it to at least 111000/) });
  });

  it('a checkpoint interval or retention that is no number of the right size, naming the key', () => {
    for (const [key, value, problem] of [
      ['LIVE_CREW_CHECKPOINT_SLICES', '0', /LIVE_CREW_CHECKPOINT_SLICES: must be > 0 \(got 0\)/],
      ['LIVE_CREW_EVENTS_RETENTION_MS', '5000', /LIVE_CREW_EVENTS_RETENTION_MS: must be at least 60000 \(a minute\) \(got 5000\)/],
      ['LIVE_CREW_SLICES_RETENTION_MS', 'soon', /LIVE_CREW_SLICES_RETENTION_MS: must be a number \(milliseconds\) \(got "soon"\)/],
    ] as const) {
      const result = runCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 's1', '--nats-url', server().url], { [key]: value });
      expect(result.status, key).not.toBe(0);
      expect(result.stderr, key).toMatch(problem);
    }
  });

  it('a stream id that is not one', () => {
    const result = runCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 'live.m1', '--nats-url', server().url]);
    expect(result).toMatchObject({ status: 2, stderr: expect.stringMatching(/option '--stream <id>' argument 'live\.m1' is invalid\. must match .* \(no dots, wildcards or spaces\)/) });
  });

  /** Starts `args` and waits for its log to match `logged`; it is stopped then (a scheduler or runner never ends by itself). */
  async function logsAndRuns(args: readonly string[], logged: RegExp): Promise<void> {
    const process = startCli([...args, '--nats-url', server().url]);
    try {
      await waitUntil(() => logged.test(process.stderr()) || process.child.exitCode !== null, `a log line matching ${logged}`);
      expect(process.stderr()).toMatch(logged);
      expect(process.child.exitCode, 'it goes on').toBe(null);
    } finally {
      await stopAll([process]);
    }
  }

  it("a crew's stored progress that is not live-crew's, naming bucket and key: the crew starts without it", async () => {
    const nc = await connect({ servers: server().url });
    const kv = await new Kvm(nc).create('live_crew_run_garbled', { history: 1 });
    await kv.put('crew.stats', '{"doneSlice":"yesterday"}');
    await nc.close();
    await logsAndRuns(
      ['runner', '--crews', MATCH_DAY_CREWS, '--stream', 'garbled', '--selector', 'stats'],
      /KV live_crew_run_garbled\/crew\.stats holds .*yesterday.*, not a live-crew crew\.stats record \(doneSlice: .*\); crew stats starts without it/,
    );
  });

  it("a scheduler's stored checkpoint or lease that is not live-crew's, naming bucket and key: it goes on without them", async () => {
    const nc = await connect({ servers: server().url });
    const kv = await new Kvm(nc).create('live_crew_run_checkpointed', { history: 1 });
    await kv.put('scheduler.checkpoint', '{"slice":3,"quietBefore":9,"reportsFrom":1,"engine":{"streamId":"checkpointed","position":"far"}}');
    await kv.put('scheduler.lease', 'not json');
    await nc.close();
    await logsAndRuns(
      ['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 'checkpointed'],
      /KV live_crew_run_checkpointed\/scheduler\.lease holds .*not json.*, not a live-crew scheduler\.lease record \(not valid JSON.*\); taken as a lease that lapsed[\s\S]*KV live_crew_run_checkpointed\/scheduler\.checkpoint holds .*far.*, not a live-crew scheduler\.checkpoint record .*; going on without it: the stream is read from its first event/,
    );
  });

  it('a scheduler and a runner serve /metrics and beat on live.<stream>.heartbeats', async () => {
    const [schedulerPort, runnerPort] = [await freePort(), await freePort()];
    const nc = await connect({ servers: server().url });
    const beats: Array<{ kind: string; stream_id: string; payload: { process: string; seq: number } }> = [];
    nc.subscribe('live.beating.heartbeats', { callback: (_error, message) => void beats.push(message.json()) });
    const env = { LIVE_CREW_HEARTBEAT_S: '0.2' };
    const scheduler = startCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 'beating', '--metrics-port', String(schedulerPort), '--nats-url', server().url], env);
    const runner = startCli(['runner', '--crews', MATCH_DAY_CREWS, '--stream', 'beating', '--selector', 'stats', '--metrics-port', String(runnerPort), '--nats-url', server().url], env);
    try {
      await waitUntil(() => new Set(beats.map((beat) => beat.payload.process)).size === 2, 'beats of both');
      expect(new Set(beats.map((beat) => beat.payload.process))).toEqual(new Set(['scheduler', 'runner /^(?:stats)$/']));
      expect(beats[0]).toMatchObject({ kind: '__hb', stream_id: 'beating' });
      for (const port of [schedulerPort, runnerPort]) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(text).toMatch(/^live_crew_heartbeats_total [1-9]\d*$/m);
      }
    } finally {
      await stopAll([scheduler, runner]);
      await nc.close();
    }
  });

  it('the scheduler reports a runner silent for 3 beats (error log, live_crew_runner_silent 1) and back when a runner of that selector beats again', async () => {
    const port = await freePort();
    // Beats 0.5 s apart: a loaded machine may stall a starting runner a few hundred ms.
    const env = { LIVE_CREW_HEARTBEAT_S: '0.5', LIVE_CREW_LOG_LEVEL: 'info' };
    const scheduler = startCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', 'silent', '--metrics-port', String(port), '--nats-url', server().url], env);
    const runner = () => startCli(['runner', '--crews', MATCH_DAY_CREWS, '--stream', 'silent', '--selector', 'stats', '--nats-url', server().url], env);
    const first = runner();
    // The gauge's value; undefined before it is set; 'down' while /metrics is not served yet.
    const gauge = async () => {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (response) => response.text(),
        () => undefined,
      );
      return text === undefined ? 'down' : /^live_crew_runner_silent\{selector="\/\^\(\?:stats\)\$\/"\} (\d)$/m.exec(text)?.[1];
    };
    let second: typeof first | undefined;
    const nc = await connect({ servers: server().url });
    let runnerBeats = 0;
    nc.subscribe('live.silent.heartbeats', { callback: (_error, message) => void (message.json<{ payload: { process: string } }>().payload.process.startsWith('runner') && runnerBeats++) });
    try {
      // The scheduler must have heard the runner: one that never beat is not missed.
      await waitUntil(
        async () => [undefined, '0'].includes(await gauge()) && /runner \/\^\(\?:stats\)\$\/ beats: watched/.test(scheduler.stderr()) && runnerBeats >= 2,
        'the scheduler hearing the runner',
      );
      first.child.kill('SIGKILL');
      // What is said from here on (a stall before the kill may have been reported and taken back).
      const before = scheduler.stderr().length;
      const since = () => scheduler.stderr().slice(before);
      await waitUntil(async () => (await gauge()) === '1', 'the runner reported silent');
      expect(since()).toMatch(/"level":"error".*"process":"runner \/\^\(\?:stats\)\$\/".*runner \/\^\(\?:stats\)\$\/ has sent no heartbeat for \d+ ms \(more than 3 beats\)/);
      second = runner();
      await waitUntil(async () => (await gauge()) === '0', 'the runner beating again');
      expect(since()).toMatch(/runner \/\^\(\?:stats\)\$\/ beats again, after \d+ ms of silence/);
    } finally {
      await stopAll([scheduler, first, ...(second ? [second] : [])]);
      await nc.close();
    }
  });

  it('a scheduler stopped cleanly hands over at once; a stream with only its end finishes with nothing to do, and its runners stop', async () => {
    const lease = { LIVE_CREW_LEASE_MS: '60000' };
    const first = startScheduler(server().url, lease);
    await waitUntil(() => /scheduling stream/.test(first.stderr()), 'the first scheduler');
    const second = startScheduler(server().url, lease);
    await waitUntil(() => /standby/.test(second.stderr()), 'the standby');
    const runner = startRunner(server().url, '.*', { LIVE_CREW_LOG_LEVEL: 'info' });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Well within the 60 s lease: the first gave it up.
    await waitUntil(() => /scheduling stream match_42/.test(second.stderr()), 'the takeover');
    expect(runCli(['publish', '-', '--stream', 'match_42', '--end', '--nats-url', server().url]).status).toBe(0);
    expect(await second.exited, second.stderr()).toBe(0);
    expect(second.stderr()).toMatch(/input ended; every slice committed/);
    // The runner stops once the stream has ended; so does one started after.
    const late = startRunner(server().url, 'stats', { LIVE_CREW_LOG_LEVEL: 'info' });
    for (const ended of [runner, late]) {
      expect(await ended.exited, ended.stderr()).toBe(0);
      expect(ended.stderr()).toContain("stream match_42 ended: its input ended and every slice is committed; this runner's crews have no more work on it");
    }
    await stopAll([first, second, runner, late]);
  });
});
