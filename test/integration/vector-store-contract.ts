import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VectorStoreError } from '../../src/framework/errors.js';
import type { VectorMetric, VectorPoint, VectorQuery } from '../../src/framework/model/vector.js';
import type { VectorStore } from '../../src/framework/ports/vector-store.js';
import { MemoryVectorStore } from '../../src/adapters/memory/memory-vector-store.js';

/** How a contract run gets stores: one open store for the suite, and (for a durable one) a store reopened on the same data. */
export interface VectorStoreFixture {
  /** The store the suite's tests share (each test uses its own collections). */
  open(): Promise<VectorStore>;
  /** Closes `store` and opens another on the same data: points must survive it. */
  reopen?(store: VectorStore): Promise<VectorStore>;
  /** Releases what the fixture started (a server). */
  close?(): Promise<void>;
}

/** A deterministic pseudo-random vector: the same on every run. */
export function seededVectors(count: number, dimension: number, seed = 1): number[][] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 0x1_0000_0000) * 2 - 1;
  };
  return Array.from({ length: count }, () => Array.from({ length: dimension }, next));
}

/**
 * The contract every vector store passes (memory, pglite, pgvector, qdrant): the same assertions,
 * against the real store. The memory store's exact search is the reference for ranking.
 */
export function describeVectorStoreContract(name: string, fixture: () => VectorStoreFixture): void {
  describe(`VectorStore contract: ${name}`, () => {
    let setup: VectorStoreFixture;
    let store: VectorStore;
    let n = 0;
    const collection = () => `contract_${Date.now() % 1_000_000}_${n++}`;
    const point = (id: string, vector: number[], payload: VectorPoint['payload'] = {}, text?: string): VectorPoint => ({ id, vector, payload, ...(text !== undefined ? { text } : {}) });

    beforeAll(async () => {
      setup = fixture();
      store = await setup.open();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await setup?.close?.();
    });

    it('a collection never made has no shape, finds nothing, and deletes nothing', async () => {
      const name = collection();
      expect(await store.describe(name)).toBeUndefined();
      expect(await store.query(name, [1, 0, 0], { topK: 3 })).toEqual([]);
      await store.delete(name, ['a']);
    });

    it("keeps a collection's shape; the same shape again is fine, another is refused naming both", async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 3, metric: 'cosine' });
      await store.ensureCollection(name, { dimension: 3, metric: 'cosine' });
      expect(await store.describe(name)).toEqual({ dimension: 3, metric: 'cosine' });
      const refused = store.ensureCollection(name, { dimension: 4, metric: 'dot' });
      await expect(refused).rejects.toThrow(VectorStoreError);
      await expect(store.ensureCollection(name, { dimension: 4, metric: 'dot' })).rejects.toThrow(`collection ${name} exists with 3-dimensional vectors by cosine, not 4-dimensional by dot`);
    });

    it('finds the nearest points first, with score, text and payload as stored; ties go by id', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 3, metric: 'cosine' });
      await store.upsert(name, [
        point('far', [-1, 0, 0.1], { kind: 'card' }),
        point('near', [1, 0.1, 0], { kind: 'goal', minute: 9, tags: ['header'], ünï: 'ç' }, 'Kane heads it in — 1–0'),
        point('twin-b', [0, 1, 0]),
        point('twin-a', [0, 1, 0]),
      ]);
      const hits = await store.query(name, [1, 0, 0], { topK: 4 });
      expect(hits.map((hit) => hit.id)).toEqual(['near', 'twin-a', 'twin-b', 'far']);
      expect(hits[0]).toEqual({ id: 'near', score: expect.any(Number), text: 'Kane heads it in — 1–0', payload: { kind: 'goal', minute: 9, tags: ['header'], ünï: 'ç' } });
      expect(hits[0]!.score).toBeCloseTo(1 / Math.hypot(1, 0.1), 5);
      expect(hits[1]!.score).toBeCloseTo(0, 5);
      expect(hits[3]).toEqual({ id: 'far', score: expect.any(Number), payload: { kind: 'card' } });
      expect(await store.query(name, [1, 0, 0], { topK: 1 })).toHaveLength(1);
    });

    it('an upsert replaces the point of the same id; in one batch, the last wins', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'cosine' });
      await store.upsert(name, [point('p', [1, 0], { v: 1 }, 'one')]);
      await store.upsert(name, [point('p', [0, 1], { v: 2 }), point('q', [1, 0], { v: 3 }), point('q', [1, 1], { v: 4 })]);
      const hits = await store.query(name, [0, 1], { topK: 5 });
      expect(hits.map((hit) => [hit.id, hit.payload, hit.text])).toEqual([
        ['p', { v: 2 }, undefined],
        ['q', { v: 4 }, undefined],
      ]);
    });

    it('a filter keeps points whose payload matches every key: a value, or any of a list', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'cosine' });
      await store.upsert(name, [
        point('goal-home', [1, 0], { kind: 'goal', team: 'home', minute: 9, var: false }),
        point('goal-away', [1, 0.2], { kind: 'goal', team: 'away', minute: 20, var: true }),
        point('card-home', [1, 0.1], { kind: 'card', team: 'home', minute: 30 }),
        point('chance', [1, 0.3], { kind: 'chance' }),
      ]);
      const ids = async (filter: Record<string, string | number | boolean | Array<string | number | boolean>>) => (await store.query(name, [1, 0], { topK: 10, filter })).map((hit) => hit.id);
      expect(await ids({ kind: 'goal' })).toEqual(['goal-home', 'goal-away']);
      expect(await ids({ kind: 'goal', team: 'home' })).toEqual(['goal-home']);
      expect(await ids({ kind: ['card', 'chance'] })).toEqual(['card-home', 'chance']);
      expect(await ids({ minute: 20 })).toEqual(['goal-away']);
      expect(await ids({ var: false })).toEqual(['goal-home']);
      expect(await ids({ team: 'nobody' })).toEqual([]);
    });

    it('agrees on the edges: an empty filter is none, an unknown key or an empty list of ids matches nothing, topK 0 finds nothing, topK past the size finds all', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'cosine' });
      await store.upsert(name, [point('a', [1, 0], { kind: 'goal' }), point('b', [0, 1], { kind: 'card' })]);
      const ids = async (query: VectorQuery) => (await store.query(name, [1, 0], query)).map((hit) => hit.id);
      expect(await ids({ topK: 10, filter: {} })).toEqual(['a', 'b']);
      expect(await ids({ topK: 10, filter: { nobody_has_this: 'x' } })).toEqual([]);
      expect(await ids({ topK: 0 })).toEqual([]);
      expect(await ids({ topK: 1000 })).toEqual(['a', 'b']);
      await store.delete(name, []);
      expect(await ids({ topK: 10 })).toEqual(['a', 'b']);
    });

    it('refuses a vector that is not finite numbers, naming the collection, before anything is stored or searched', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'cosine' });
      await store.upsert(name, [point('a', [1, 0])]);
      for (const bad of [
        [Number.NaN, 0],
        [Number.POSITIVE_INFINITY, 0],
        [0, Number.NEGATIVE_INFINITY],
      ]) {
        await expect(store.query(name, bad, { topK: 3 })).rejects.toThrow(new RegExp(`collection ${name}: vector\\[\\d\\] is (NaN|-?Infinity), not a finite number`));
        await expect(store.upsert(name, [point('bad', bad)])).rejects.toThrow(VectorStoreError);
      }
      expect((await store.query(name, [1, 0], { topK: 3 })).map((hit) => hit.id)).toEqual(['a']);
    });

    it('a filtered search still finds topK points when few match among many', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 16, metric: 'cosine' });
      const vectors = seededVectors(600, 16, 7);
      await store.upsert(
        name,
        vectors.map((vector, i) => point(`p${i}`, vector, { rare: i % 100 === 0 })),
      );
      const hits = await store.query(name, vectors[1]!, { topK: 6, filter: { rare: true } });
      expect(hits.map((hit) => hit.id).sort()).toEqual(['p0', 'p100', 'p200', 'p300', 'p400', 'p500']);
    });

    it('a big collection (past where an index is built) still ranks as exact search does, filters and all', async () => {
      const name = collection();
      const vectors = seededVectors(6_000, 8, 11);
      const reference = new MemoryVectorStore();
      for (const target of [store, reference]) {
        await target.ensureCollection(name, { dimension: 8, metric: 'cosine' });
        // Two loads: the first as big as the collection, the second into it.
        await target.upsert(
          name,
          vectors.slice(0, 5_000).map((vector, i) => point(`p${i}`, vector, { rare: i % 500 === 0 })),
        );
        await target.upsert(
          name,
          vectors.slice(5_000).map((vector, i) => point(`p${5_000 + i}`, vector, { rare: (5_000 + i) % 500 === 0 })),
        );
      }
      let found = 0;
      for (const query of seededVectors(20, 8, 12)) {
        const [got, expected] = await Promise.all([store.query(name, query, { topK: 10 }), reference.query(name, query, { topK: 10 })]);
        const exact = new Set(expected.map((hit) => hit.id));
        found += got.filter((hit) => exact.has(hit.id)).length;
      }
      expect(found / 200).toBeGreaterThanOrEqual(0.95);
      const rare = await store.query(name, vectors[3]!, { topK: 12, filter: { rare: true } });
      expect(rare.map((hit) => hit.id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `p${i * 500}`).sort());
    }, 120_000);

    it.each<[VectorMetric]>([['cosine'], ['dot'], ['euclidean']])('ranks and scores as exact search does, by %s', async (metric) => {
      const name = collection();
      const vectors = seededVectors(200, 8, metric.length);
      const reference = new MemoryVectorStore();
      for (const target of [store, reference]) {
        await target.ensureCollection(name, { dimension: 8, metric });
        await target.upsert(
          name,
          vectors.map((vector, i) => point(`p${i}`, vector)),
        );
      }
      for (const query of seededVectors(5, 8, 99)) {
        const [got, expected] = await Promise.all([store.query(name, query, { topK: 10 }), reference.query(name, query, { topK: 10 })]);
        expect(got.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        for (const [i, hit] of got.entries()) expect(hit.score).toBeCloseTo(expected[i]!.score, 4);
      }
    });

    it('deletes points by id; ids it does not hold are ignored', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'cosine' });
      await store.upsert(name, [point('a', [1, 0]), point('b', [0, 1])]);
      await store.delete(name, ['a', 'never-there']);
      expect((await store.query(name, [1, 0], { topK: 5 })).map((hit) => hit.id)).toEqual(['b']);
    });

    it('takes a batch larger than one statement holds', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 4, metric: 'cosine' });
      const vectors = seededVectors(1_234, 4, 3);
      await store.upsert(
        name,
        vectors.map((vector, i) => point(`p${i}`, vector)),
      );
      const hits = await store.query(name, vectors[1_233]!, { topK: 1 });
      expect(hits[0]!.id).toBe('p1233');
    });

    it.runIf(fixture().reopen !== undefined)('keeps its points across a reopen', async () => {
      const name = collection();
      await store.ensureCollection(name, { dimension: 2, metric: 'euclidean' });
      await store.upsert(name, [point('kept', [3, 4], { n: 1 }, 'still here')]);
      store = await setup.reopen!(store);
      expect(await store.describe(name)).toEqual({ dimension: 2, metric: 'euclidean' });
      expect(await store.query(name, [0, 0], { topK: 1 })).toEqual([{ id: 'kept', score: expect.closeTo(-5, 4), text: 'still here', payload: { n: 1 } }]);
    });
  });
}
