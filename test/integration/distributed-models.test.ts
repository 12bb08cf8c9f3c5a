import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatCompletionsServer, type ChatCompletionsServer } from '../../src/testing.js';
import { runCli, startCli, stopAll, storedMessages, waitUntil, type CliProcess } from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
const STREAM = 'models_1';

describe.skipIf(start === undefined)('a YAML model crew on a distributed runner', () => {
  const server = serverForSuite(start!);
  let chat: ChatCompletionsServer;
  let dir: string;
  const processes: CliProcess[] = [];
  beforeAll(async () => {
    chat = await startChatCompletionsServer({ reply: (request) => `Heard ${JSON.stringify(request.messages.at(-1)!.content)}` });
    dir = mkdtempSync(join(tmpdir(), 'live-crew-distributed-models-'));
    mkdirSync(join(dir, 'crews'));
    writeFileSync(
      join(dir, 'crews', 'caller.crew.yaml'),
      'id: caller\ntriggers: goal\nmodel: local\nuser_template: "goal {{ event.payload.n }}"\noutputs:\n  - kind: call\n    payload: { text: "{{ outputs.text }}" }\n',
    );
    writeFileSync(join(dir, 'live-config.yaml'), `models:\n  local:\n    provider: openai-compatible\n    model: tiny\n    base_url: ${chat.url}\n`);
    const events = Array.from({ length: 5 }, (_, n) => JSON.stringify({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + n * 600).toISOString(), kind: 'goal', stream_id: STREAM, payload: { n } }));
    writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
  });
  afterAll(async () => {
    await stopAll(processes);
    await chat.close();
  });

  it('journals every answer in JetStream: a runner that re-runs every slice pays for no call again and publishes nothing twice', async () => {
    const url = server().url;
    const common = ['--crews', join(dir, 'crews'), '--config', join(dir, 'live-config.yaml'), '--stream', STREAM, '--nats-url', url];
    const runner = () => startCli(['runner', ...common, '--selector', 'caller']);
    expect(runCli(['publish', join(dir, 'events.jsonl'), '--end', '--nats-url', url]).status).toBe(0);
    const first = runner();
    processes.push(first);
    const scheduler = startCli(['scheduler', ...common]);
    processes.push(scheduler);
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    expect(chat.requests).toHaveLength(5);
    const published = await storedMessages(url, 'LIVE_ACTIONS');
    expect(published.map((text) => JSON.parse(text).payload.text)).toEqual([0, 1, 2, 3, 4].map((n) => `Heard "goal ${n}"`));

    // Forget the runner's progress: its successor re-runs every slice from the first work message.
    first.child.kill('SIGKILL');
    await first.exited;
    const nc = await connect({ servers: url });
    const progress = await new Kvm(nc).open(`live_crew_run_${STREAM}`);
    const finished = (await progress.get('crew.caller'))!.json<{ workSeq: number }>().workSeq;
    await progress.delete('crew.caller');
    const successor = runner();
    processes.push(successor);
    const workSeq = async () => {
      const entry = await progress.get('crew.caller');
      return entry?.operation === 'PUT' ? entry.json<{ workSeq: number }>().workSeq : undefined;
    };
    await waitUntil(async () => (await workSeq()) === finished, "the successor's progress reaching the first runner's");
    await nc.close();
    expect(chat.requests).toHaveLength(5);
    expect(await storedMessages(url, 'LIVE_ACTIONS')).toEqual(published);
  });
});
