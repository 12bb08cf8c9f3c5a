/**
 * Vector search (DESIGN §10): 100,000 points of d = 384 in each embedded store.
 *
 * Data: a seeded mixture of 500 clusters (each point a cluster centre plus noise), as embeddings of
 * real texts cluster by topic; queries are new points from the same mixture.
 *
 * 1. Bulk load: every point in one upsert (the store defers the HNSW index and builds it after):
 *    points/s, index build included.
 * 2. Live upserts: 500 upserts of one point into the loaded collection, as slice merges apply
 *    them: points/s.
 * 3. Queries: top-10 for each query, one at a time: p50 and p99, and recall@10 against the memory
 *    store's exact search in the same run (goal ≥ 0.95 with an index).
 * 4. The same queries hand-written against the same PGlite (the SQL the store runs, no store
 *    code), taking turns with the store's: the ratio of the store's p50 and p99 to it.
 * 5. Through a crew: `ctx.vectors().search` in a handler call (a recorded decision, journaled in
 *    memory) against the memory store, beside the store's own query in the same handler: what
 *    the framework adds.
 *
 *   npm run bench:vectors [-- --points 100000 --dim 384 --queries 200]
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { MemoryVectorStore, PostgresVectorStore } from 'live-crew/vectors';
import { Crew, DECISION_JOURNAL, OnEvent, VECTOR_STORE, type CrewContext, type Event, type VectorHit, type VectorPoint, type VectorStore } from 'live-crew';
import { createTestingApp, MemoryDecisionJournal } from 'live-crew/testing';
import { percentiles } from './paced-feed.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const POINTS = arg('points', 100_000);
const DIM = arg('dim', 384);
const QUERIES = arg('queries', 200);
const LIVE_UPSERTS = 500;
const CLUSTERS = 500;
const TOP_K = 10;

/** A seeded generator of normal deviates (xorshift + Box-Muller): the same data on every run. */
function normals(seed: number): () => number {
  let state = seed;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 1) / 0x1_0000_0002;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

const normal = normals(42);
const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: DIM }, normal));
const near = (centre: number[]) => centre.map((x) => x + 0.6 * normal());
const points: VectorPoint[] = Array.from({ length: POINTS }, (_, i) => ({ id: `p${i}`, vector: near(centres[i % CLUSTERS]!), payload: { cluster: i % CLUSTERS } }));
const queries = Array.from({ length: QUERIES }, (_, i) => near(centres[(i * 7) % CLUSTERS]!));
const live: VectorPoint[] = Array.from({ length: LIVE_UPSERTS }, (_, i) => ({ id: `live${i}`, vector: near(centres[i % CLUSTERS]!), payload: { cluster: i % CLUSTERS } }));

const rate = (count: number, ms: number) => `${Math.round(count / (ms / 1000)).toLocaleString('en')}/s`;
const ms = (value: number) => `${value.toFixed(2)} ms`;

interface Loaded {
  readonly name: string;
  readonly bulkMs: number;
  readonly liveMs: number;
}

/** Opens `store` and loads it: every point in one upsert, then the live upserts one by one. */
async function load(name: string, store: VectorStore): Promise<Loaded> {
  await store.open();
  await store.ensureCollection('bench', { dimension: DIM, metric: 'cosine' });
  let started = performance.now();
  await store.upsert('bench', points);
  const bulkMs = performance.now() - started;
  started = performance.now();
  for (const point of live) await store.upsert('bench', [point]);
  return { name, bulkMs, liveMs: performance.now() - started };
}

/**
 * Each query through each of `ways`, taking turns, the first way of each query rotating (a query
 * run second finds the pages the first one read in cache): per way, its latencies and results.
 */
async function timeQueries<T>(ways: ReadonlyArray<(query: number[]) => Promise<T>>): Promise<Array<{ latencies: number[]; results: T[] }>> {
  const timed = ways.map(() => ({ latencies: [] as number[], results: [] as T[] }));
  for (const [n, query] of queries.entries()) {
    for (let turn = 0; turn < ways.length; turn++) {
      const i = (n + turn) % ways.length;
      const way = ways[i]!;
      const at = performance.now();
      const result = await way(query);
      timed[i]!.latencies.push(performance.now() - at);
      timed[i]!.results.push(result);
    }
  }
  return timed;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const at = performance.now();
  await run();
  return performance.now() - at;
}

function recall(got: VectorHit[][], exact: VectorHit[][]): number {
  let found = 0;
  got.forEach((hits, i) => {
    const truth = new Set(exact[i]!.map((hit) => hit.id));
    found += hits.filter((hit) => truth.has(hit.id)).length;
  });
  return found / (exact.length * TOP_K);
}

/**
 * `ctx.vectors().search` in handler calls (a recorded decision, journaled in memory), one event
 * per query, against `store`; beside it, in the same handler, the store's own query: what the
 * framework adds, measured in the same process state.
 */
async function throughCrew(store: VectorStore): Promise<{ viaCtx: number[]; direct: number[] }> {
  const viaCtx: number[] = [];
  const direct: number[] = [];
  @Crew({ id: 'searcher' })
  class Searcher {
    @OnEvent('query')
    async on(event: Event<{ i: number }>, ctx: CrewContext) {
      const query = queries[event.payload.i]!;
      const ways = [
        async () => direct.push(await timed(() => store.query('bench', query, { topK: TOP_K }))),
        async () => viaCtx.push(await timed(() => ctx.vectors('bench').search(query, { topK: TOP_K }))),
      ];
      // Which goes first alternates, as in timeQueries.
      if (event.payload.i % 2 === 1) ways.reverse();
      for (const way of ways) await way();
    }
  }
  const t = await createTestingApp({
    crews: [Searcher],
    config: { vector: { backend: 'memory' } },
    providers: [
      { token: VECTOR_STORE, useValue: store },
      { token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal() },
    ],
  });
  const events = queries.map((_, i) => ({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + i).toISOString(), kind: 'query', stream_id: 's', payload: { i } }));
  const r = await t.run(events);
  if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors[0]));
  return { viaCtx, direct };
}

console.log(`vector search: ${POINTS.toLocaleString('en')} points of d = ${DIM} (${CLUSTERS} clusters), ${QUERIES} queries of top-${TOP_K}\n`);
const memory = new MemoryVectorStore();
const exactLoad = await load('memory (exact)', memory);
const [exact] = await timeQueries([(query) => memory.query('bench', query, { topK: TOP_K })]);

// The pglite backend's own setup (as PGliteVectorStore makes it), on a database the hand-written queries share.
const db = await PGlite.create({ extensions: { vector } });
await db.exec("CREATE EXTENSION IF NOT EXISTS vector; SET hnsw.ef_search = 100; SET hnsw.iterative_scan = strict_order; SET maintenance_work_mem = '512MB'");
const pglite = new PostgresVectorStore(async () => ({ client: db, close: async () => {} }));
const pgliteLoad = await load('pglite (HNSW)', pglite);
// The store's query, hand-written: the same SQL on the same database, no store code.
const [stored, hand] = await timeQueries<unknown>([
  (query) => pglite.query('bench', query, { topK: TOP_K }),
  (query) => db.query('SELECT id, text, payload, embedding <=> $1::vector AS distance FROM lcv_bench ORDER BY embedding <=> $1::vector LIMIT $2', [JSON.stringify(query), TOP_K]),
]);
await db.close();

console.log('store            bulk load        live upserts   query p50    query p99    recall@10');
for (const [run, timed] of [
  [exactLoad, exact!],
  [pgliteLoad, stored!],
] as const) {
  const { p50, p99 } = percentiles(timed.latencies);
  console.log(
    `${run.name.padEnd(16)} ${rate(POINTS, run.bulkMs).padEnd(16)} ${rate(LIVE_UPSERTS, run.liveMs).padEnd(14)} ${ms(p50).padEnd(12)} ${ms(p99).padEnd(12)} ${recall(timed.results as VectorHit[][], exact!.results).toFixed(3)}`,
  );
}
const byStore = percentiles(stored!.latencies);
const byHand = percentiles(hand!.latencies);
console.log(
  `\nhand-written PGlite query, same database, taking turns: p50 ${ms(byHand.p50)}, p99 ${ms(byHand.p99)}; the pglite store: ${(byStore.p50 / byHand.p50).toFixed(2)}× at p50, ${(byStore.p99 / byHand.p99).toFixed(2)}× at p99`,
);
const inCrew = await throughCrew(memory);
const viaCtx = percentiles(inCrew.viaCtx);
const direct = percentiles(inCrew.direct);
console.log(
  `in a handler, memory store: ctx.vectors().search (journaled) p50 ${ms(viaCtx.p50)}, p99 ${ms(viaCtx.p99)}; the store's own query p50 ${ms(direct.p50)}, p99 ${ms(direct.p99)}; ${(viaCtx.p50 / direct.p50).toFixed(2)}× at p50`,
);
