/**
 * A distributed run for fault tests: the built CLI's `scheduler`, `runner` and `publish` as
 * child processes against a test's own nats-server, and what JetStream holds afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { own } from '../../bench/owned-children.js';
import { connect } from '@nats-io/transport-node';

export const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
export const MATCH_DAY_CREWS = 'examples/match-day/dist/crews.js';
export const MATCH_DAY_EVENTS = 'examples/match-day/events.jsonl';
export const MATCH_DAY_STREAM = 'match_42';

/** A CLI process: its combined stderr so far, and its exit. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** Starts `live-crew <args>` in the repository root. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = own(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } }));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, stderr: () => stderr };
}

/** Runs `live-crew <args>` to its end. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 150_000, env: { ...process.env, ...env } });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

/** The scheduler of the match-day stream. */
export function startScheduler(url: string, env: Record<string, string> = {}): CliProcess {
  return startCli(['scheduler', '--crews', MATCH_DAY_CREWS, '--stream', MATCH_DAY_STREAM, '--nats-url', url], env);
}

/** A runner of the match-day crews the selector picks. */
export function startRunner(url: string, selector: string, env: Record<string, string> = {}): CliProcess {
  return startCli(['runner', '--crews', MATCH_DAY_CREWS, '--stream', MATCH_DAY_STREAM, '--selector', selector, '--nats-url', url], env);
}

/** Publishes the match-day events and the end of the stream. */
export function publishMatchDay(url: string, env: Record<string, string> = {}): void {
  const published = runCli(['publish', MATCH_DAY_EVENTS, '--end', '--nats-url', url], env);
  if (published.status !== 0) throw new Error(`publish failed: ${published.stderr}`);
}

/** What the in-process engine gives for the match-day events (file mode, the same crews). */
export function inProcessOutput(): { actions: string[]; errors: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-expected-'));
  const [out, err] = [join(dir, 'actions.jsonl'), join(dir, 'errors.jsonl')];
  const run = runCli(['run', MATCH_DAY_EVENTS, '--crews', MATCH_DAY_CREWS, '--out', out, '--errors', err]);
  if (run.status !== 0) throw new Error(`in-process run failed: ${run.stderr}`);
  return { actions: lines(readFileSync(out, 'utf8')), errors: lines(readFileSync(err, 'utf8')) };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** How many messages a JetStream stream holds. */
export async function storedCount(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

/** Every message a JetStream stream holds, in order, as text. */
export async function storedMessages(url: string, stream: string, auth: { user?: string; pass?: string } = {}): Promise<string[]> {
  const nc = await connect({ servers: url, ...auth });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.add(stream, { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
    const texts: string[] = [];
    if (info.num_pending === 0) return texts;
    for await (const message of await (await jetstream(nc).consumers.get(stream, info.name)).consume()) {
      texts.push(message.string());
      if (texts.length === info.num_pending) break;
    }
    return texts;
  } finally {
    await nc.close();
  }
}

/** Polls until `condition` holds. */
export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** Ends processes still running (a test's runners are services: they never end by themselves). */
export async function stopAll(processes: readonly CliProcess[]): Promise<void> {
  await Promise.all(
    processes.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      await p.exited;
    }),
  );
}

/** An error record with its source cut to the input position: `events.jsonl:17` and `nats:…#17` name the same event. */
export function withPosition(record: string): string {
  return record.replace(/"source":"[^"]*?(\d+)"/, '"source":"#$1"');
}

/** The actions of one kind, in order: a crew's actions keep their order in every mode. */
export function ofKind(actions: readonly string[], kind: string): string[] {
  return actions.filter((line) => (JSON.parse(line) as { kind: string }).kind === kind);
}
