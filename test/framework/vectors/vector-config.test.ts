import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embed } from 'ai';
import { describe, expect, it } from 'vitest';
import { ConfigError, Crew, OnEvent, loadConfig, type CrewContext, type Event } from '../../../src/index.js';
import { createTestingApp, startChatCompletionsServer } from '../../../src/testing.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'live-crew-vector-config-')), 'live-config.yaml');
  writeFileSync(file, text);
  return file;
}
const refusal = (text: string) => {
  try {
    loadConfig({ file: yamlFile(text), env: {} });
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
};

describe('vector: and embedders: in live-config.yaml (DESIGN §10)', () => {
  it("the original spec's live-config.yaml is valid as it is", () => {
    const config = loadConfig({
      file: yamlFile('slice_ms: 250\nheartbeat_s: 3\nkv_backend: redis      # jetstream | redis | memory\nvector:\n  backend: "qdrant"\n  url: "http://qdrant:6333"\n'),
      env: {},
    });
    expect(config).toMatchObject({ slice_ms: 250, heartbeat_s: 3, kv_backend: 'redis', vector: { backend: 'qdrant', url: 'http://qdrant:6333' } });
  });

  it('vector search is off without vector:, and pglite (in memory) with an empty one', () => {
    expect(loadConfig({ file: false, env: {} }).vector).toBeNull();
    expect(loadConfig({ file: yamlFile('vector: {}\n'), env: {} }).vector).toEqual({ backend: 'pglite' });
  });

  it.each([
    ['a backend it does not have', 'vector:\n  backend: milvus\n', 'vector.backend (line 2): must be one of pglite, memory, pgvector, qdrant'],
    ['pgvector without a postgres URL', 'vector:\n  backend: pgvector\n', 'vector.url (line 1): the pgvector backend needs url'],
    ['qdrant with a postgres URL', 'vector:\n  backend: qdrant\n  url: postgres://x@h/db\n', "vector.url (line 3): the qdrant backend needs url: the server's http(s):// URL"],
    ['a path for a backend that has none', 'vector:\n  backend: memory\n  path: ./v\n', 'vector.path (line 3): is for the pglite backend; memory does not take one'],
    ['a collection name Postgres and Qdrant cannot share', 'vector:\n  collections:\n    Moments: { dimension: 8 }\n', 'vector.collections.Moments'],
    ['a metric it does not know', 'vector:\n  collections:\n    moments: { metric: manhattan }\n', 'vector.collections.moments.metric (line 3): must be one of cosine, dot, euclidean'],
    ['an unknown key', 'vector:\n  backend: memory\n  index: hnsw\n', 'vector.index (line 3): unknown key (known keys: backend, path, url, api_key_env, embedder, collections)'],
    ['a hash embedder without dimensions', 'embedders:\n  e: { provider: hash }\n', 'embedders.e.dimensions (line 2)'],
    [
      'an embedding provider it does not have',
      'embedders:\n  e: { provider: anthropic, model: x }\n',
      "embedders.e.provider (line 2): must name a provider: 'openai' (text-embedding-3-small), 'openai-compatible' (Ollama, vLLM, LM Studio) or 'hash' (offline, deterministic)",
    ],
  ])('refuses %s, naming the key and line', (_what, text, expected) => {
    expect(refusal(text)).toContain(expected);
  });

  it('an embedder named by vector: that is not configured stops the start', async () => {
    @Crew({ id: 'any' })
    class Any {
      @OnEvent('x') on() {}
    }
    const start = createTestingApp({
      crews: [Any],
      config: { embedders: { local: { provider: 'hash', dimensions: 8 } }, vector: { backend: 'memory', embedder: 'openai', collections: { facts: { embedder: 'other' } } } },
    }).then((t) => t.run([]));
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/vector\.embedder: embedder "openai" is not configured \(embedders: has local\)\n\s+vector\.collections\.facts\.embedder: embedder "other" is not configured/);
  });

  it('a qdrant API key env var that is not set stops the start, naming the key', async () => {
    @Crew({ id: 'any' })
    class Any {
      @OnEvent('x') on() {}
    }
    delete process.env['LIVE_CREW_TEST_QDRANT_KEY'];
    const start = createTestingApp({ crews: [Any], config: { vector: { backend: 'qdrant', url: 'http://127.0.0.1:1', api_key_env: 'LIVE_CREW_TEST_QDRANT_KEY' } } }).then((t) => t.run([]));
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow("vector.api_key_env: the environment variable LIVE_CREW_TEST_QDRANT_KEY holding qdrant's API key is not set");
  });

  it('an openai-compatible embedder is called through its real provider package, with its dimensions, against a local server', async () => {
    const server = await startChatCompletionsServer();
    try {
      @Crew({ id: 'embedder' })
      class Embedder {
        @OnEvent('x')
        async on(_event: Event, ctx: CrewContext) {
          const { embedding } = await embed({ model: ctx.embedder(), value: 'Kane scores', abortSignal: ctx.signal });
          ctx.emit('vector', { length: embedding.length });
        }
      }
      const t = await createTestingApp({ crews: [Embedder], config: { embedders: { local: { provider: 'openai-compatible', model: 'nomic-embed-text', base_url: server.url, dimensions: 16 } } } });
      const r = await t.run([{ ts: '2024-05-01T12:00:00Z', kind: 'x', stream_id: 'm1', payload: {} }]);
      expect(r.errors).toEqual([]);
      expect(r.actions[0]!.payload).toEqual({ length: 16 });
      expect(server.embeddingRequests).toEqual([{ model: 'nomic-embed-text', input: ['Kane scores'], dimensions: 16 }]);
    } finally {
      await server.close();
    }
  });
});
