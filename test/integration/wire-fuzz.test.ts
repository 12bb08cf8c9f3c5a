import fc from 'fast-check';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  inProcessOutput,
  MATCH_DAY_CREWS,
  MATCH_DAY_STREAM,
  publishMatchDay,
  startCli,
  startRunner,
  startScheduler,
  stopAll,
  storedCount,
  storedMessages,
  waitUntil,
  type CliProcess,
} from './distributed-cluster.js';
import { natsServer, type TestServer } from './servers.js';
import { ensureLiveStreams } from '../../src/nats.js';

const start = natsServer();
const S = MATCH_DAY_STREAM;
const RUNNER_A = 'score_tracker|stats|commentator';
const RUNNER_B = 'graphics|referee_watch|pundit';
const CREWS = ['score_tracker', 'stats', 'commentator', 'graphics', 'referee_watch', 'pundit'];
/** The crew whose reports the fuzz forges with the report's own id: it writes no context, so no other crew's output may change. */
const FORGED = 'graphics';
/** The seed of the hostile messages: printed on failure, so a failing run can be repeated. */
const SEED = Number(process.env['LIVE_CREW_TEST_FUZZ_SEED'] ?? 20261207);

/** A message an attacker publishes, and who must log its refusal. */
interface Hostile {
  readonly subject: string;
  readonly data: string;
  readonly msgID?: string;
  readonly sender?: string;
}

const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** Bodies no live-crew process writes: junk, the wrong shape, nesting far past the bounds, oversized, prototype keys. */
const junkBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.constant(deep(100_000)),
  fc.constant('x'.repeat(900_000)),
  fc.constant('{"writes":[["__proto__",{"polluted":true}]],"disabled":false}'),
  fc.constant(`{"writes":[["k",${deep(70)}]],"disabled":false}`),
  fc.constant('{"writes":[["k",1e999]],"disabled":false}'),
  fc.constant(`{"events":[{"event":{"ts":"2024-05-18T15:00:00.000Z","kind":"goal","stream_id":"${S}","payload":${deep(80)}},"position":1,"source":"s","slice":1}],"crews":{"stats":[0]}}`),
  fc.constant('{"events":[{"position":"nine"}],"crews":{}}'),
  fc.constant('{"events":[],"crews":{"stats":[3]}}'),
  fc.constant('{"events":[],"crews":{"stats":[{"close":"soon"}]}}'),
);
const slice = fc.integer({ min: -2, max: 12_000 });
const crew = fc.constantFrom(...CREWS);

/** Hostile messages on every subject the scheduler, the runners and the viewer read. */
const hostile: fc.Arbitrary<Hostile> = fc.oneof(
  // Junk work for the runners' group and another, with and without an id the scheduler's work could have.
  fc.record({ group: fc.constantFrom('default', 'ghost'), crew, slice, data: junkBody, withId: fc.boolean() }).map(({ group, crew: c, slice: n, data, withId }) => ({
    subject: `live.${S}.work.${group}`,
    data,
    ...(withId ? { msgID: `${S}:${group}:${c}/${n}/${n}~${c}/${n}/${n}:1` } : {}),
  })),
  // A junk report with the report's own id: the forged crew's report of that slice if it comes first.
  fc.record({ slice, data: junkBody }).map(({ slice: n, data }) => ({ subject: `live.${S}.slice.${n}.${FORGED}.done`, data, msgID: `${S}:${n}:${FORGED}:done`, sender: 'the fuzz' })),
  // Reports with no or another id, of a crew not of this run, or on a subject naming no slice: no report at all.
  fc.record({ crew, slice, data: junkBody }).map(({ crew: c, slice: n, data }) => ({ subject: `live.${S}.slice.${n}.${c}.done`, data })),
  fc.record({ slice, data: junkBody }).map(({ slice: n, data }) => ({ subject: `live.${S}.slice.${n}.ghost.done`, data, msgID: `${S}:${n}:ghost:done` })),
  junkBody.map((data) => ({ subject: `live.${S}.slice.soon.stats.done`, data, msgID: 'x' })),
  // Decisions forged on another owner's subject, and junk entries.
  fc.record({ crew, slice }).map(({ crew: c, slice: n }) => ({ subject: `live.${S}.journal.crew.${c === 'stats' ? 'score_tracker' : 'stats'}`, data: `timeout:${c}.onPlay:${S}:${n}:7` })),
  fc.record({ crew, slice }).map(({ crew: c, slice: n }) => ({ subject: `live.${S}.journal.crew.${c}`, data: `tick:${n}:0` })),
  junkBody.map((data) => ({ subject: `live.${S}.journal.scheduler`, data: data === '' ? '{' : `{${data}` })),
  // The viewer's and the scheduler's other subjects.
  junkBody.map((data) => ({ subject: `live.${S}.heartbeats`, data })),
  junkBody.map((data) => ({ subject: `live.${S}.ctx`, data })),
  junkBody.map((data) => ({ subject: `live.${S}.actions`, data })),
);

/** Publishes a message as an attacker would: JetStream subjects stored, the others on core NATS. */
async function publish(nc: NatsConnection, js: JetStreamClient, { subject, data, msgID, sender }: Hostile): Promise<number | undefined> {
  const stored = /\.(slice|journal|work)\./.test(subject) || subject.endsWith('.actions');
  if (!stored) {
    nc.publish(subject, data);
    return undefined;
  }
  const h = headers();
  if (sender !== undefined) h.set('Live-Crew-Runner', sender);
  return (await js.publish(subject, data, { headers: h, ...(msgID !== undefined ? { msgID } : {}) })).seq;
}

/** Publishes again, as they are stored, `count` random messages of the run's work and reports: a replay of the wire. */
async function replayStored(js: JetStreamClient, count: number, random: () => number): Promise<void> {
  const jsm = await js.jetstreamManager();
  const { first_seq, last_seq } = (await jsm.streams.info('LIVE_SLICES')).state;
  for (let i = 0; i < count; i++) {
    const seq = first_seq + Math.floor(random() * (last_seq - first_seq + 1));
    const stored = await jsm.streams.getMessage('LIVE_SLICES', { seq }).catch(() => undefined);
    if (stored === undefined || stored === null) continue;
    const h = headers();
    for (const [name, values] of stored.header ?? []) if (name !== 'Nats-Msg-Id') for (const value of values) h.append(name, value);
    // The same id is de-duplicated by the server; one that keeps its prefix reaches the readers again.
    const id = stored.header?.get('Nats-Msg-Id');
    await js.publish(stored.subject, stored.data, { headers: h, ...(id ? { msgID: `${id}:again` } : {}) });
  }
}

/** Each `subject#seq` a process's log says it refused, with how often. */
function refusalsLogged(stderr: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of stderr.matchAll(/"msg":"(live\.[^#"\s]+#\d+) refused: /g)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  return counts;
}

/**
 * The wire fuzz suite (issue 28, DESIGN §5 amendments): random malformed, oversized, deep,
 * wrong-owner and replayed messages on every subject the processes of a two-runner run read,
 * while the scheduler and a runner are killed and restarted over the same stored messages. The
 * stream must complete; each bad message is logged once by each process that reads it; the
 * crews that received none give the file-mode output.
 */
describe.skipIf(start === undefined)('nothing on the wire can stop a stream', () => {
  let expected: { actions: string[]; errors: string[] };
  let server: TestServer;
  let processes: CliProcess[] = [];
  const track = (p: CliProcess) => {
    processes.push(p);
    return p;
  };

  beforeAll(() => {
    expected = inProcessOutput();
  });
  afterEach(async () => {
    await stopAll(processes);
    processes = [];
    await server?.stop();
  });

  it(`a two-runner run under random hostile messages on every subject, with its scheduler and a runner killed and restarted, gives the file-mode output (seed ${SEED})`, async () => {
    server = await start!();
    const url = server.url;
    const nc = await connect({ servers: url });
    const js = jetstream(nc);
    const messages = fc.sample(hostile, { seed: SEED, numRuns: 240 });
    const random = fc.sample(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { seed: SEED, numRuns: 1000 });
    let r = 0;
    const next = () => random[r++ % random.length]!;
    const published: Array<Hostile & { seq?: number }> = [];
    const send = async (message: Hostile) => published.push({ ...message, seq: await publish(nc, js, message) });
    try {
      const lease = { LIVE_CREW_LEASE_MS: '1000' };
      // Before anything starts: forged and junk decisions, which every process reads as it opens
      // its owners' journal, and junk input, each an invalid event's error record and nothing more.
      await ensureLiveStreams(nc);
      const journal = messages.filter((m) => m.subject.includes('.journal.'));
      for (const message of journal) await send(message);
      // The forged crew's report of the slice of the first goal, stored before its runner's: it
      // stands as that report, refused, and its runner's is de-duplicated by the server.
      const firstGoal = Math.floor((Date.parse('2024-05-18T15:09:13.608Z') - Date.parse('2024-05-18T15:00:00.000Z')) / 500);
      await send({
        subject: `live.${S}.slice.${firstGoal}.${FORGED}.done`,
        data: '{"writes":[["__proto__",{"polluted":true}]],"disabled":false}',
        msgID: `${S}:${firstGoal}:${FORGED}:done`,
        sender: 'the fuzz',
      });
      for (const data of fc.sample(junkBody, { seed: SEED, numRuns: 5 })) await js.publish(`live.${S}.events`, data);
      const leader = track(startScheduler(url, lease));
      await waitUntil(() => /scheduling stream/.test(leader.stderr()), 'the leader');
      const viewer = track(startCli(['dev', '--stream', S, '--nats-url', url, '--crews', MATCH_DAY_CREWS, '--port', '0']));
      await waitUntil(() => /live-crew dashboard: (http:\S+)/.test(viewer.stderr()), 'the viewer');
      const standby = track(startScheduler(url, lease));
      const runnerA = track(startRunner(url, RUNNER_A));
      const runnerB = track(startRunner(url, RUNNER_B));
      publishMatchDay(url);

      // Half the hostile messages, then the leader and runner A are killed; runner A starts again.
      const wire = messages.filter((m) => !m.subject.includes('.journal.'));
      const half = Math.floor(wire.length / 2);
      for (const message of wire.slice(0, half)) await send(message);
      await replayStored(js, 20, next);
      await waitUntil(async () => (await storedCount(url, 'LIVE_ACTIONS')) >= 6, 'actions mid-stream');
      leader.child.kill('SIGKILL');
      runnerA.child.kill('SIGKILL');
      await Promise.all([leader.exited, runnerA.exited]);
      const restartedA = track(startRunner(url, RUNNER_A));
      const sentBefore = published.length;
      for (const message of wire.slice(half)) await send(message);
      await replayStored(js, 20, next);

      expect(await standby.exited, standby.stderr()).toBe(0);
      expect(standby.stderr()).toMatch(/scheduling stream match_42/);

      // Every crew gives the file-mode output: the one whose reports were forged writes no context,
      // so only error records are added (its refused reports, and the junk events).
      const actions = await storedMessages(url, 'LIVE_ACTIONS');
      const ours = actions.filter((line) => !published.some((m) => m.subject.endsWith('.actions') && m.data === line));
      expect(ours.sort()).toEqual([...expected.actions].sort());
      const errors = (await storedMessages(url, 'LIVE_ERRORS')).map((line) => JSON.parse(line) as { payload: { reason: string; crew?: string; message: string; source?: string } });
      const reasons = (reason: string) => errors.filter((e) => e.payload.reason === reason);
      const withoutSource = (records: readonly { payload: { source?: string } }[]) => records.map(({ payload: { source: _source, ...rest } }) => JSON.stringify(rest)).sort();
      expect(withoutSource(errors.filter((e) => !['invalid_event', 'bad_report'].includes(e.payload.reason)))).toEqual(
        withoutSource(expected.errors.map((line) => JSON.parse(line) as { payload: object })),
      );
      expect(reasons('invalid_event')).toHaveLength(5);
      expect(reasons('bad_report').map((record) => record.payload)).toContainEqual(
        expect.objectContaining({
          crew: FORGED,
          slice: firstGoal,
          message: expect.stringMatching(/\(sent by the fuzz\) was refused: not a live-crew slice report: writes\[0\]\[0\]: context key "__proto__" is not allowed/),
        }),
      );
      for (const record of reasons('bad_report'))
        expect(record.payload).toMatchObject({ crew: FORGED, message: expect.stringMatching(/\(sent by the fuzz\) was refused: not a live-crew slice report/) });

      // Each process logged each refusal it made once.
      const logs = () => processes.map((p) => refusalsLogged(p.stderr()));
      for (const [i, log] of logs().entries()) for (const [at, count] of log) expect(count, `${at} in the log of process ${i}`).toBe(1);
      // Work for the runners' group sent after the restart is read by the live runners, which refuse every junk message of it.
      const junkWork = published.slice(sentBefore).filter((m) => m.subject === `live.${S}.work.default`);
      expect(junkWork.length).toBeGreaterThan(0);
      await waitUntil(() => junkWork.every(({ subject, seq }) => logs().some((log) => log.has(`${subject}#${seq}`))), 'the runners to refuse the junk work');
      // Every process read its owners' journal as it opened: the forged and junk entries were refused.
      const schedulerJunk = published.filter((m) => m.subject === `live.${S}.journal.scheduler`);
      expect(schedulerJunk.length).toBeGreaterThan(0);
      for (const scheduler of [leader, standby]) for (const { subject, seq } of schedulerJunk) expect(refusalsLogged(scheduler.stderr()).has(`${subject}#${seq}`), `${subject}#${seq}`).toBe(true);
      const crewJunk = published.filter((m) => /\.journal\.crew\.(score_tracker|stats|commentator)$/.test(m.subject));
      for (const { subject, seq } of crewJunk) expect(refusalsLogged(restartedA.stderr()).has(`${subject}#${seq}`), `${subject}#${seq}`).toBe(true);
      for (const process of [standby, restartedA, runnerB]) expect(process.stderr()).not.toMatch(/unexpected error|Unhandled|RangeError|SyntaxError/);

      // The viewer lived through it all and saw the whole match.
      const page = /live-crew dashboard: (http:\S+)/.exec(viewer.stderr())![1]!;
      const view = (await (await fetch(new URL('api/view', page))).json()) as { counts: { actions: number } };
      expect(view.counts.actions).toBeGreaterThanOrEqual(expected.actions.length);
      expect(viewer.child.exitCode).toBe(null);
    } finally {
      await nc.close();
    }
  });
});
