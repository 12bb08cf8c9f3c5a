import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { own } from '../../bench/owned-children.js';
import { startChatCompletionsServer, type ChatCompletionsServer } from '../../src/testing.js';

// The built CLI, run as a user runs it; asynchronously, so the model server in this process can answer.
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function cli(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    own(
      execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, LIVE_CREW_SLICE_MS: undefined, ...env } }, (error, stdout, stderr) => {
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      }),
    );
  });
}

const COMMENTATOR = `id: commentator
triggers: goal_scored
lag: 1
model: pundit
system_prompt: You are a football commentator.
user_template: "{{ event.payload.player }} scores! Score was {{ ctx.goals | default: 0 }}."
outputs:
  - kind: commentary
    payload: { line: "{{ outputs.text }}", player: "{{ event.payload.player }}" }
patch:
  goals: "{{ ctx.goals | default: 0 | plus: 1 }}"
`;

const EVENTS = ['Kane', 'Saka', 'Rice', 'Foden']
  .map((player, i) => JSON.stringify({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + i * 700).toISOString(), kind: 'goal_scored', stream_id: 'm1', payload: { player } }))
  .join('\n');

describe('live-crew run with a YAML model crew, --journal and --replay', () => {
  let server: ChatCompletionsServer;
  let dir: string;
  beforeAll(async () => {
    server = await startChatCompletionsServer({ reply: (request) => `Live from the model: ${String(request.messages.at(-1)!.content)}` });
    dir = mkdtempSync(join(tmpdir(), 'live-crew-models-cli-'));
    mkdirSync(join(dir, 'crews'));
    writeFileSync(join(dir, 'crews', 'commentator.crew.yaml'), COMMENTATOR);
    writeFileSync(join(dir, 'live-config.yaml'), `models:\n  pundit:\n    provider: openai-compatible\n    model: local-model\n    base_url: ${server.url}\n`);
    writeFileSync(join(dir, 'events.jsonl'), `${EVENTS}\n`);
  });
  afterAll(() => server.close());

  it('records every answer, then replays with no server: the same bytes out; a changed input is a replay_divergence', async () => {
    const live = await cli(['run', 'events.jsonl', '--crews', 'crews', '--out', 'live.jsonl', '--journal', 'journal.jsonl'], dir);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    const recorded = readFileSync(join(dir, 'live.jsonl'), 'utf8');
    // A crew reads its own writes at once, lag or not.
    expect(
      recorded
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).payload),
    ).toEqual([
      { line: 'Live from the model: Kane scores! Score was 0.', player: 'Kane' },
      { line: 'Live from the model: Saka scores! Score was 1.', player: 'Saka' },
      { line: 'Live from the model: Rice scores! Score was 2.', player: 'Rice' },
      { line: 'Live from the model: Foden scores! Score was 3.', player: 'Foden' },
    ]);
    expect(server.requests).toHaveLength(4);
    // The journal keeps answers, and of the request only digests: no prompt text.
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).not.toContain('You are a football commentator');

    // The journal and no server: the model's base URL now points nowhere.
    writeFileSync(join(dir, 'offline.yaml'), 'models:\n  pundit:\n    provider: openai-compatible\n    model: local-model\n    base_url: http://127.0.0.1:9/v1\n');
    const replay = await cli(['run', 'events.jsonl', '--crews', 'crews', '--config', 'offline.yaml', '--out', 'replay.jsonl', '--replay', 'journal.jsonl'], dir);
    expect(replay).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, 'replay.jsonl'), 'utf8')).toBe(recorded);
    expect(server.requests).toHaveLength(4);

    writeFileSync(join(dir, 'changed.jsonl'), `${EVENTS.replace('Rice', 'Odegaard')}\n`);
    const changed = await cli(['run', 'changed.jsonl', '--crews', 'crews', '--config', 'offline.yaml', '--out', 'changed-out.jsonl', '--replay', 'journal.jsonl'], dir);
    const errors = changed.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // Rice's call diverges and fails, so the goal count Foden's prompt shows differs too.
    expect(errors.map((e) => [e.payload.reason, e.payload.crew, e.payload.slice, e.payload.source])).toEqual([
      ['replay_divergence', 'commentator', 2, 'changed.jsonl:3'],
      ['replay_divergence', 'commentator', 4, 'changed.jsonl:4'],
    ]);
    expect(errors[0].payload.message).toContain('prompt changed since it was recorded');

    // --replay-missing live asks the model again for what the journal cannot answer, and only that.
    const healed = await cli(['run', 'changed.jsonl', '--crews', 'crews', '--out', 'healed.jsonl', '--replay', 'journal.jsonl', '--replay-missing', 'live'], dir);
    expect(healed).toMatchObject({ code: 0, stderr: '' });
    expect(server.requests.map((r) => r.messages.at(-1)!.content)).toEqual([
      ...['Kane scores! Score was 0.', 'Saka scores! Score was 1.', 'Rice scores! Score was 2.', 'Foden scores! Score was 3.'],
      'Odegaard scores! Score was 2.',
    ]);
  });

  it('a replay needs nothing live: no API key, no provider package made, no vector store opened or written; only --replay-missing live asks for them', async () => {
    const keyed = `models:\n  pundit:\n    provider: openai-compatible\n    model: local-model\n    api_key_env: PUNDIT_KEY\n    base_url: ${server.url}\nembedders:\n  local: { provider: hash, dimensions: 8 }\nvector:\n  backend: pglite\n  path: store\n  embedder: local\n`;
    writeFileSync(join(dir, 'keyed.yaml'), keyed);
    mkdirSync(join(dir, 'indexing'));
    writeFileSync(join(dir, 'indexing', 'commentator.crew.yaml'), COMMENTATOR.replace('model: pundit', 'model: pundit\ntools: [fact_insert]'));
    const withKey = (args: string[], key: string | undefined) => cli(args, dir, { PUNDIT_KEY: key });
    const live = await withKey(['run', 'events.jsonl', '--crews', 'indexing', '--config', 'keyed.yaml', '--out', 'keyed.jsonl', '--journal', 'keyed-journal.jsonl'], 'sk-test');
    expect(live).toMatchObject({ code: 0, stderr: '' });
    rmSync(join(dir, 'store'), { recursive: true, force: true });
    const asked = server.requests.length;

    // No key in the environment, and the store deleted: both replays repeat the run, and create nothing.
    const replayed = await withKey(['run', 'events.jsonl', '--crews', 'indexing', '--config', 'keyed.yaml', '--out', 'keyed-replay.jsonl', '--replay', 'keyed-journal.jsonl'], undefined);
    expect(replayed).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, 'keyed-replay.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'keyed.jsonl'), 'utf8'));
    const harness = await withKey(['replay', 'events.jsonl', '--crews', 'indexing', '--config', 'keyed.yaml', '--journal', 'keyed-journal.jsonl', '--expected', 'keyed.jsonl'], undefined);
    expect(harness.stdout).toBe('replay: no divergence (4 recorded actions, 4 now)\n');
    expect(existsSync(join(dir, 'store'))).toBe(false);
    expect(server.requests.length).toBe(asked);

    // Asked to go live for what the journal lacks, it needs the key again, and says which.
    const live2 = await withKey(['run', 'events.jsonl', '--crews', 'indexing', '--config', 'keyed.yaml', '--out', 'x.jsonl', '--replay', 'keyed-journal.jsonl', '--replay-missing', 'live'], undefined);
    expect(live2.code).toBe(1);
    expect(live2.stderr).toMatch(/models\.pundit.*PUNDIT_KEY/);
  });

  it('validate and graph cover YAML crews and their models', async () => {
    expect(await cli(['validate', '--crews', 'crews'], dir)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 1 crews \(commentator\)/) });
    expect((await cli(['graph', '--crews', 'crews'], dir)).stdout).toBe('1. commentator (lag 1)\n');
    writeFileSync(join(dir, 'nomodel.yaml'), 'slice_ms: 500\n');
    const missing = await cli(['validate', '--crews', 'crews', '--config', 'nomodel.yaml'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('crew commentator: model "pundit" is not configured (models: is empty)');
    writeFileSync(join(dir, 'crews', 'broken.crew.yaml'), 'id: broken\ntriggers: x\noutputs:\n  - kind: ok\n    payload: { a: "{{ x | nope }}" }\n');
    const broken = await cli(['validate', '--crews', 'crews'], dir);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('broken.crew.yaml:5 outputs.0.payload.a: template does not parse: undefined filter: nope');
  });

  it("validate checks vector search: its embedder is configured, its backend's package loads (without connecting)", async () => {
    rmSync(join(dir, 'crews', 'broken.crew.yaml'), { force: true });
    writeFileSync(
      join(dir, 'vectors.yaml'),
      `${readFileSync(join(dir, 'live-config.yaml'), 'utf8')}embedders:\n  local: { provider: hash, dimensions: 8 }\nvector:\n  backend: pgvector\n  url: postgres://app@127.0.0.1:1/nowhere\n  embedder: local\n`,
    );
    expect(await cli(['validate', '--crews', 'crews', '--config', 'vectors.yaml'], dir)).toMatchObject({ code: 0 });
    writeFileSync(join(dir, 'vectors.yaml'), `${readFileSync(join(dir, 'live-config.yaml'), 'utf8')}vector:\n  backend: memory\n  embedder: openai\n`);
    const unknown = await cli(['validate', '--crews', 'crews', '--config', 'vectors.yaml'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('vector.embedder: embedder "openai" is not configured (embedders: is empty)');
  });
});

describe('validate and run check what YAML crews need of the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-needs-'));
  mkdirSync(join(dir, 'crews'));
  // No model named: the crew takes the only one configured, or `default`.
  writeFileSync(
    join(dir, 'crews', 'pundit.crew.yaml'),
    'id: pundit\ntriggers: goal\nuser_template: "{{ event.payload.player }} scores"\noutputs:\n  - kind: said\n    payload: { line: "{{ outputs.text }}" }\n',
  );
  writeFileSync(
    join(dir, 'crews', 'archivist.crew.yaml'),
    'id: archivist\ntriggers: goal\nmodel: local\nuser_template: "remember {{ event.payload.player }}"\ntools: [fact_insert, { name: vector_search, collection: moments }]\noutputs:\n  - kind: kept\n',
  );
  writeFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts: '2024-05-01T12:00:00.000Z', kind: 'goal', stream_id: 'm1', payload: { player: 'Kane' } })}\n`);
  const config = (text: string) => {
    writeFileSync(join(dir, 'live-config.yaml'), text);
  };
  const twoModels =
    'models:\n  local: { provider: openai-compatible, model: m, base_url: "http://127.0.0.1:1/v1" }\n  other: { provider: openai-compatible, model: m, base_url: "http://127.0.0.1:1/v1" }\n';

  it('a model crew with no model to call, and a crew whose tools search by text with vector: off or no embedder, fail validate and the run', async () => {
    config(twoModels);
    const off = await cli(['validate', '--crews', 'crews'], dir);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain('crew pundit asks a model on every event and has none: set its model: to one of local, other, or configure one named "default"');
    expect(off.stderr).toContain('crew archivist searches collection facts by text, but vector search is off: add vector:');
    expect(off.stderr).toContain('crew archivist searches collection moments by text, but vector search is off');
    const run = await cli(['run', 'events.jsonl', '--crews', 'crews'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('crew pundit asks a model on every event and has none');

    config(`${twoModels}vector:\n  backend: memory\n`);
    const noEmbedder = await cli(['validate', '--crews', 'crews'], dir);
    expect(noEmbedder.code).toBe(1);
    expect(noEmbedder.stderr).toContain('crew archivist searches collection facts by text, and no embedder is chosen for it: no embedder is configured (add one under embedders:');
    expect(noEmbedder.stderr).toContain('warning: vector: chooses no embedder (embedders: is empty): a crew searching or inserting by text will fail; by vector it works');

    // A collection may name its own embedder; the others take vector.embedder.
    config(
      `${twoModels.replace('other', 'default')}embedders:\n  a: { provider: hash, dimensions: 8 }\n  b: { provider: hash, dimensions: 8 }\nvector:\n  backend: memory\n  collections:\n    moments: { embedder: b }\n`,
    );
    const partly = await cli(['validate', '--crews', 'crews'], dir);
    expect(partly.code).toBe(1);
    expect(partly.stderr).not.toContain('pundit');
    expect(partly.stderr).not.toContain('collection moments');
    expect(partly.stderr).toContain('crew archivist searches collection facts by text, and no embedder is chosen for it: set vector.embedder to one of a, b, or configure one named "default"');

    config(`${twoModels.replace('other', 'default')}embedders:\n  a: { provider: hash, dimensions: 8 }\nvector:\n  backend: memory\n`);
    expect(await cli(['validate', '--crews', 'crews'], dir)).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^ok: 2 crews/) });
  });
});
