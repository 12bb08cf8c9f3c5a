import { embed } from 'ai';
import { describe, expect, it } from 'vitest';
import { Crew, DECISION_JOURNAL, OnEvent, VECTOR_STORE, type CrewContext, type Event, type VectorHit, type VectorSearchReport } from '../../../src/index.js';
import { MemoryVectorStore } from '../../../src/vectors.js';
import { createTestingApp, hashEmbedder, MemoryDecisionJournal } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
type Moment = { minute: number; text: string };
const at = (ms: number, kind: string, payload: object = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });

/** Indexes every moment by its text, with its kind and minute. */
@Crew({ id: 'indexer' })
class Indexer {
  @OnEvent(['goal', 'chance', 'card'])
  async on(event: Event<Moment>, ctx: CrewContext) {
    await ctx.vectors('moments').upsert({ id: `${event.kind}-${event.payload.minute}`, text: event.payload.text, payload: { kind: event.kind, minute: event.payload.minute } });
  }
}

/** On a goal, emits the ids of the 2 moments most like it. */
@Crew({ id: 'finder' })
class Finder {
  @OnEvent('goal')
  async on(event: Event<Moment>, ctx: CrewContext) {
    const hits = await ctx.vectors('moments').search(event.payload.text, { topK: 2 });
    ctx.emit('similar', { minute: event.payload.minute, ids: hits.map((hit) => hit.id) });
  }
}

const match = [
  at(0, 'chance', { minute: 3, text: 'Kane header over the bar from a corner' }),
  at(100, 'card', { minute: 5, text: 'yellow card for a late tackle by Rice' }),
  at(600, 'goal', { minute: 9, text: 'Kane scores a header from a corner' }),
  at(1200, 'goal', { minute: 20, text: 'Saka curls it in from the edge of the box' }),
];
const embedders = { default: hashEmbedder({ dimensions: 64 }) };
const vectorConfig = { vector: { backend: 'memory' as const } };

describe('ctx.vectors(): vector search in handlers (DESIGN §10)', () => {
  it("a search finds what earlier slices upserted, nearest first, and not its own slice's upserts", async () => {
    const t = await createTestingApp({ crews: [Indexer, Finder], embedders, config: vectorConfig });
    const r = await t.run(match);
    expect(r.errors).toEqual([]);
    // Minute 9's goal (slice 1) sees slice 0's moments, the header chance first; minute 20's also sees minute 9's goal.
    expect(r.actions.map((a) => a.payload)).toEqual([
      { minute: 9, ids: ['chance-3', 'card-5'] },
      { minute: 20, ids: expect.arrayContaining(['goal-9']) },
    ]);
  });

  it('hits carry the score, text and payload; a payload filter keeps only what matches', async () => {
    const found: VectorHit[][] = [];
    @Crew({ id: 'filtered' })
    class Filtered {
      @OnEvent('goal')
      async on(event: Event<Moment>, ctx: CrewContext) {
        found.push(await ctx.vectors('moments').search(event.payload.text, { topK: 5, filter: { kind: ['card', 'goal'] } }));
      }
    }
    const t = await createTestingApp({ crews: [Indexer, Filtered], embedders, config: vectorConfig });
    await t.run(match);
    expect(found[0]).toEqual([{ id: 'card-5', score: expect.any(Number), text: 'yellow card for a late tackle by Rice', payload: { kind: 'card', minute: 5 } }]);
    expect(found[1]!.map((hit) => hit.payload['kind'])).toEqual(['goal', 'card']);
    expect(found[1]![0]!.score).toBeGreaterThan(found[1]![1]!.score);
  });

  it('a call that fails or times out upserts nothing: its writes are discarded with it', async () => {
    @Crew({ id: 'flaky', timeoutMs: 50 })
    class Flaky {
      @OnEvent(['chance', 'card'])
      async on(event: Event<Moment>, ctx: CrewContext) {
        await ctx.vectors('moments').upsert({ id: event.kind, text: event.payload.text });
        if (event.kind === 'chance') throw new Error('after the upsert');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const store = new MemoryVectorStore();
    const t = await createTestingApp({ crews: [Flaky, Finder], embedders, config: vectorConfig, providers: [{ token: VECTOR_STORE, useValue: store }] });
    const r = await t.run(match);
    expect(r.errors.map((e) => e.payload.reason)).toEqual(['handler_error', 'timeout']);
    expect(r.actions.map((a) => a.payload)).toEqual([
      { minute: 9, ids: [] },
      { minute: 20, ids: [] },
    ]);
  });

  it('deletes apply when the slice merges', async () => {
    @Crew({ id: 'pruner' })
    class Pruner {
      @OnEvent('card')
      on(_event: Event, ctx: CrewContext) {
        ctx.vectors('moments').delete('chance-3');
      }
    }
    const t = await createTestingApp({ crews: [Indexer, Pruner, Finder], embedders, config: vectorConfig });
    const r = await t.run(match);
    expect(r.actions[0]!.payload).toEqual({ minute: 9, ids: ['card-5'] });
  });

  it('a replay returns the recorded hits even though the store has changed since, with no embedding, and changes no store', async () => {
    const journal = new MemoryDecisionJournal();
    const recorded = await (await createTestingApp({ crews: [Indexer, Finder], embedders, config: vectorConfig, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(match);
    // The replay's store already holds a point nearer than any, and its embedder is another.
    const changed = new MemoryVectorStore();
    await changed.ensureCollection('moments', { dimension: 64, metric: 'cosine' });
    const replayEmbedder = hashEmbedder({ dimensions: 64 });
    const [intruder] = (await replayEmbedder.doEmbed({ values: ['Kane scores a header from a corner'] })).embeddings;
    await changed.upsert('moments', [{ id: 'intruder', vector: intruder!, payload: {} }]);
    let embedded = 0;
    const counting = {
      ...replayEmbedder,
      doEmbed: (options: Parameters<typeof replayEmbedder.doEmbed>[0]) => {
        embedded++;
        return replayEmbedder.doEmbed(options);
      },
    };
    const replayed = await (
      await createTestingApp({
        crews: [Indexer, Finder],
        embedders: { default: counting },
        config: vectorConfig,
        providers: [
          { token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) },
          { token: VECTOR_STORE, useValue: changed },
        ],
      })
    ).run(match);
    expect(JSON.stringify(replayed.actions)).toBe(JSON.stringify(recorded.actions));
    expect(embedded).toBe(0);
    // A replay takes every search from its journal: it applies no upsert to a store (nor opens one).
    expect((await changed.query('moments', intruder!, { topK: 10 })).map((hit) => hit.id)).toEqual(['intruder']);
  });

  it("tells the run's observers of each search: answered by the store, or served from the journal", async () => {
    const live: VectorSearchReport[] = [];
    const journal = new MemoryDecisionJournal();
    await (
      await createTestingApp({
        crews: [Indexer, Finder],
        embedders,
        config: vectorConfig,
        observer: { vectorSearched: (s) => live.push(s) },
        providers: [{ token: DECISION_JOURNAL, useValue: journal }],
      })
    ).run(match);
    expect(live.map(({ crew, collection, outcome, hits }) => ({ crew, collection, outcome, hits }))).toEqual([
      { crew: 'finder', collection: 'moments', outcome: 'ok', hits: 2 },
      { crew: 'finder', collection: 'moments', outcome: 'ok', hits: 2 },
    ]);
    const replayed: VectorSearchReport[] = [];
    await (
      await createTestingApp({
        crews: [Indexer, Finder],
        embedders,
        config: vectorConfig,
        observer: { vectorSearched: (s) => replayed.push(s) },
        providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }],
      })
    ).run(match);
    expect(replayed.map((s) => s.outcome)).toEqual(['replayed', 'replayed']);
  });

  it('a replay whose search asks something else is a replay_divergence naming the call', async () => {
    const journal = new MemoryDecisionJournal();
    await (await createTestingApp({ crews: [Indexer, Finder], embedders, config: vectorConfig, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(match);
    @Crew({ id: 'finder' })
    class ChangedFinder {
      @OnEvent('goal')
      async on(event: Event<Moment>, ctx: CrewContext) {
        const hits = await ctx.vectors('moments').search(event.payload.text, { topK: 3 });
        ctx.emit('similar', { ids: hits.map((hit) => hit.id) });
      }
    }
    const r = await (
      await createTestingApp({ crews: [Indexer, ChangedFinder], embedders, config: vectorConfig, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(match);
    expect(r.errorsOf('replay_divergence')[0]!.payload.message).toBe(
      'recorded effect 0 ("vectors.search") of finder.on (slice 1) asks something else than when it was recorded; the recorded result is not used (re-record the journal, or run with --replay-missing live)',
    );
  });

  it("ctx.embedder() works with the AI SDK's embed(), journaled and replayed", async () => {
    @Crew({ id: 'embedder' })
    class Embedder {
      @OnEvent('goal')
      async on(event: Event<Moment>, ctx: CrewContext) {
        const { embedding } = await embed({ model: ctx.embedder(), value: event.payload.text, abortSignal: ctx.signal });
        ctx.emit('vector', { length: embedding.length, first: embedding.find((x) => x !== 0) });
      }
    }
    const journal = new MemoryDecisionJournal();
    const live = await (await createTestingApp({ crews: [Embedder], embedders, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(match);
    expect(live.actions[0]!.payload).toMatchObject({ length: 64 });
    const never = { ...hashEmbedder({ dimensions: 64 }), doEmbed: () => Promise.reject(new Error('a replay must not embed')) };
    const replay = await (
      await createTestingApp({ crews: [Embedder], embedders: { default: never }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(match);
    expect(replay.errors).toEqual([]);
    expect(JSON.stringify(replay.actions)).toBe(JSON.stringify(live.actions));
  });
});

describe("ctx.vectors(): bad input is the crew's error, named, and the stream goes on", () => {
  const bad = (use: (ctx: CrewContext) => unknown) => {
    @Crew({ id: 'bad' })
    class Bad {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        await use(ctx);
      }
    }
    return Bad;
  };
  const messageOf = async (use: (ctx: CrewContext) => unknown, config: object = vectorConfig) => {
    const t = await createTestingApp({ crews: [Indexer, bad(use)], embedders, config });
    const r = await t.run(match);
    // The indexer's calls are unaffected by the bad crew's.
    expect(r.errors.every((e) => e.payload.crew === 'bad')).toBe(true);
    return r.errors[0]!.payload.message;
  };

  it.each([
    ['a collection name that cannot be one', (ctx: CrewContext) => ctx.vectors('Moments!'), 'crew bad called ctx.vectors("Moments!"): a collection name is a lower-case letter'],
    ['a document with neither text nor vector', (ctx: CrewContext) => ctx.vectors('moments').upsert({ id: 'x' }), 'crew bad: vectors("moments").upsert: documents[0]'],
    ['a vector of another dimension', (ctx: CrewContext) => ctx.vectors('moments').upsert({ vector: [1, 2, 3] }), 'collection moments holds vectors of dimension 64, not 3'],
    ['a vector holding NaN', (ctx: CrewContext) => ctx.vectors('moments').upsert({ vector: [1, Number.NaN] }), 'documents[0].vector[1]'],
    ['a payload that is not JSON', (ctx: CrewContext) => ctx.vectors('moments').upsert({ text: 'x', payload: { at: new Date() } as never }), 'vectors("moments").upsert: '],
    ['topK 0', (ctx: CrewContext) => ctx.vectors('moments').search('x', { topK: 0 }), 'vectors("moments").search: options: topK'],
    ['a filter on a nested value', (ctx: CrewContext) => ctx.vectors('moments').search('x', { filter: { kind: { $in: ['goal'] } as never } }), 'options: filter.kind'],
    ['an empty query', (ctx: CrewContext) => ctx.vectors('moments').search(''), 'the query must be a non-empty text or an array of finite numbers'],
    ['an embedder not configured', (ctx: CrewContext) => ctx.embedder('openai'), 'crew bad asked for embedder "openai", which is not configured: embedders: has default'],
  ])('%s', async (_what, use, expected) => {
    expect(await messageOf(use)).toContain(expected);
  });

  it('vector search that is off says how to turn it on', async () => {
    const r = await (await createTestingApp({ crews: [bad((ctx) => ctx.vectors('moments'))], embedders })).run(match);
    expect(r.errors[0]!.payload.message).toContain('crew bad called ctx.vectors(), but vector search is off: add vector: { backend: pglite } (or memory, pgvector, qdrant) to live-config.yaml');
  });
});
