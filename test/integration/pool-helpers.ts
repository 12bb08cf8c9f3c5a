import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, storedMessages, type CliProcess } from './distributed-cluster.js';

/** A user to connect as; none: the server's default. */
export type Auth = { user?: string; pass?: string };

// What the pool tests (workers, runner groups) read of a run: the events they publish, what a
// file-mode run of them gives, and what the pool stored, marked and owns.

/** `streams` streams named `<prefix><n>`, of `events` events each, 250 ms apart in event time, interleaved as they would arrive. */
export function eventsFile(prefix: string, streams: number, events: number): { file: string; ids: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-pool-'));
  const ids = Array.from({ length: streams }, (_, s) => `${prefix}${s}`);
  const t0 = Date.parse('2024-05-18T15:00:00Z');
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const kind = i % 13 === 12 ? 'bad' : i % 7 === 6 ? 'goal' : 'tick';
    for (const id of ids) lines.push(JSON.stringify({ ts: new Date(t0 + i * 250).toISOString(), kind, stream_id: id, payload: { minute: i } }));
  }
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, ids };
}

/** An events file cut in two halves, each a file of its own, published apart. */
export function halvesOf(file: string): { first: string; rest: string } {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const [first, rest] = [`${file}.first`, `${file}.rest`];
  writeFileSync(first, `${lines.slice(0, lines.length / 2).join('\n')}\n`);
  writeFileSync(rest, `${lines.slice(lines.length / 2).join('\n')}\n`);
  return { first, rest };
}

/** What one file-mode process gives for the same events: each stream's output is its own. */
export function fileModeOutput(file: string, crews: string): { actions: string[]; errors: string[] } {
  const [out, err] = [`${file}.actions`, `${file}.errors`];
  const run = runCli(['run', file, '--crews', crews, '--out', out, '--errors', err]);
  if (run.status !== 0) throw new Error(`file-mode run failed: ${run.stderr}`);
  const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
  return { actions: lines(out), errors: lines(err) };
}

/** An error record without its source: a file line and a JetStream sequence name the same event differently. */
export const withoutSource = (record: string) => JSON.stringify({ ...JSON.parse(record), payload: { ...JSON.parse(record).payload, source: undefined } });
/** How many streams a worker said it claimed, and how many of them from a worker whose lease lapsed. */
export const claimed = (p: CliProcess) => (p.stderr().match(/"msg":"stream [a-z]+\d+ claimed/g) ?? []).length;
export const released = (p: CliProcess) => (p.stderr().match(/"msg":"stream [a-z]+\d+ released: no event/g) ?? []).length;
export const takenOver = (p: CliProcess) => (p.stderr().match(/claimed from a worker whose lease lapsed/g) ?? []).length;
export const ofStream = (records: readonly string[], id: string) => records.filter((line) => (JSON.parse(line) as { stream_id: string }).stream_id === id);

/** Which of `ids` the pool marked finished (input ended, every slice committed). */
export async function finishedOf(url: string, ids: readonly string[], auth: Auth = {}): Promise<Set<string>> {
  const nc = await connect({ servers: url, ...auth });
  const finished = new Set<string>();
  try {
    const kv = await new Kvm(nc).open('live_crew_pool');
    for (const id of ids) {
      // As a worker writes it: where the stream's input ended.
      const entry = await kv.get(`finished.${id}`);
      if (entry?.operation === 'PUT' && typeof (JSON.parse(entry.string()) as { position?: unknown } | null)?.position === 'number') finished.add(id);
    }
  } catch {
    // No worker made the pool bucket yet.
  } finally {
    await nc.close();
  }
  return finished;
}

/** How many of `ids` the pool marked finished. */
export async function finishedStreams(url: string, ids: readonly string[], auth: Auth = {}): Promise<number> {
  return (await finishedOf(url, ids, auth)).size;
}

/** How many streams a worker's last beat says it owns. */
export async function ownedBy(url: string, worker: string): Promise<number> {
  return (await streamsOf(url, worker)).length;
}

/** The streams a pool member's last beat says it owns: a worker by its id, a group's runner as `runner.<group>.<id>`. */
export async function streamsOf(url: string, member: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const entry = await (await new Kvm(nc).open('live_crew_pool')).get(member.includes('.') ? member : `worker.${member}`);
    return entry === null || entry.operation !== 'PUT' ? [] : (JSON.parse(entry.string()) as { streams: string[] }).streams;
  } catch {
    return [];
  } finally {
    await nc.close();
  }
}

/** Each stream's merged context, as the workers committed it. */
export async function contexts(url: string, ids: readonly string[], auth: Auth = {}): Promise<Map<string, unknown>> {
  const nc = await connect({ servers: url, ...auth });
  try {
    const kvm = new Kvm(nc);
    const found = new Map<string, unknown>();
    for (const id of ids) {
      const entry = await (await kvm.open(`live_crew_ctx_${id}`)).get('snapshot');
      found.set(id, entry === null ? undefined : (JSON.parse(entry.string()) as { context: unknown }).context);
    }
    return found;
  } finally {
    await nc.close();
  }
}

/** What a JetStream stream holds of the given live-crew streams (earlier tests' are there too). */
export async function storedOf(url: string, stream: string, ids: readonly string[], auth: Auth = {}): Promise<string[]> {
  const wanted = new Set(ids);
  // Before anything is published, the stream is not there yet: nothing is stored.
  const stored = await storedMessages(url, stream, auth).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 10059) return [];
    throw error;
  });
  return stored.filter((line) => wanted.has((JSON.parse(line) as { stream_id: string }).stream_id));
}

/**
 * What the pool stored matches the file-mode run, stream by stream: nothing lost, nothing twice,
 * in order, and each stream's context counting its `events` (one count for all, or by stream). `order: 'lane'`: in order crew by crew (each fixture crew emits a kind of its own),
 * as crews hosted in other processes publish side by side.
 */
export async function expectFileModeOutput(
  url: string,
  expected: { actions: string[]; errors: string[] },
  ids: readonly string[],
  events: number | ReadonlyMap<string, number>,
  { order = 'stream', auth = {} }: { order?: 'stream' | 'lane'; auth?: Auth } = {},
): Promise<void> {
  const actions = await storedOf(url, 'LIVE_ACTIONS', ids, auth);
  if (actions.length !== expected.actions.length) {
    const errors = await storedOf(url, 'LIVE_ERRORS', ids, auth);
    const reasons = [...new Set(errors.map((line) => (JSON.parse(line) as { payload: { reason: string } }).payload.reason))];
    expect.fail(`actions stored: ${actions.length} of ${expected.actions.length} (${differences(expected.actions, actions)}); error reasons stored: ${reasons.join(', ')}`);
  }
  const kinds = order === 'stream' ? [undefined] : [...new Set(expected.actions.map((line) => (JSON.parse(line) as { kind: string }).kind))];
  const ofLane = (records: readonly string[], id: string, kind: string | undefined) =>
    ofStream(records, id).filter((line) => kind === undefined || (JSON.parse(line) as { kind: string }).kind === kind);
  for (const id of ids) for (const kind of kinds) expect(ofLane(actions, id, kind), `actions of ${id}${kind === undefined ? '' : ` (${kind})`}, in order`).toEqual(ofLane(expected.actions, id, kind));
  const errors = await storedOf(url, 'LIVE_ERRORS', ids, auth);
  expect(errors.map(withoutSource).sort()).toEqual(expected.errors.map(withoutSource).sort());
  for (const [id, context] of await contexts(url, ids, auth)) expect(context, `context of ${id}`).toEqual({ n: typeof events === 'number' ? events : events.get(id) });
}

/** The crews of the runner-group tests: the pool's, and a slow one the group `slow` hosts. */
export const GROUP_CREWS = 'test/integration/fixtures/group-crews.js';

/** A config file putting the slow crew in the runner group `slow`. */
export function groupConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'live-crew-groups-')), 'live-config.yaml');
  writeFileSync(file, 'runners:\n  slow:\n    crews: mull\n');
  return file;
}

/** A stream's run state and its work and reports in `LIVE_SLICES`, one line each: what a test that hangs on it prints. */
export async function describeStreamState(url: string, id: string): Promise<string> {
  const nc = await connect({ servers: url });
  const lines: string[] = [];
  try {
    const run = await new Kvm(nc).open(`live_crew_run_${id}`);
    for await (const key of await run.keys()) lines.push(`${key}: ${(await run.get(key))?.string() ?? ''}`);
    const slices = await storedSubjects(url, 'LIVE_SLICES', `live.${id}.slice.>`);
    lines.push(...slices);
  } finally {
    await nc.close();
  }
  return lines.join('\n');
}

/** Each message of `stream` on `subject`: its sequence, subject and the start of its body. */
async function storedSubjects(url: string, stream: string, subject: string): Promise<string[]> {
  const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url });
  try {
    const info = await (await jetstreamManager(nc)).consumers.add(stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: subject });
    const lines: string[] = [];
    if (info.num_pending === 0) return lines;
    for await (const message of await (await jetstream(nc).consumers.get(stream, info.name)).consume()) {
      lines.push(`${message.seq} ${message.subject} ${message.string().slice(0, 200)}`);
      if (message.info.pending === 0) break;
    }
    return lines;
  } finally {
    await nc.close();
  }
}

/** Which stored records differ from the expected ones, by stream and kind: what a failed count shows. */
function differences(expected: readonly string[], stored: readonly string[]): string {
  const count = (records: readonly string[]) => {
    const counts = new Map<string, number>();
    for (const line of records) {
      const { stream_id, kind } = JSON.parse(line) as { stream_id: string; kind: string };
      counts.set(`${stream_id}/${kind}`, (counts.get(`${stream_id}/${kind}`) ?? 0) + 1);
    }
    return counts;
  };
  const [want, got] = [count(expected), count(stored)];
  const keys = [...new Set([...want.keys(), ...got.keys()])].sort();
  return keys.flatMap((key) => (want.get(key) === got.get(key) ? [] : [`${key}: ${got.get(key) ?? 0} of ${want.get(key) ?? 0}`])).join(', ');
}
