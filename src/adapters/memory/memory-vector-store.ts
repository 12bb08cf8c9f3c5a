import { VectorStoreError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { checkFiniteVector, checkPoints, queryFilter } from '../../framework/vectors/store-input.js';
import type { VectorCollectionShape, VectorFilter, VectorHit, VectorMetric, VectorPayload, VectorPoint, VectorQuery } from '../../framework/model/vector.js';
import type { VectorStore } from '../../framework/ports/vector-store.js';

/** A point as the memory store keeps it: its vector as floats, with its norm for cosine. */
interface StoredPoint {
  readonly id: string;
  readonly vector: Float64Array;
  readonly norm: number;
  readonly text: string | undefined;
  readonly payload: VectorPayload;
}

interface Collection {
  readonly shape: VectorCollectionShape;
  readonly points: Map<string, StoredPoint>;
}

/**
 * A vector store in this process's memory (`vector: { backend: memory }`): exact search, a scan
 * of every point, kept until the process ends. For tests, demos and small collections (a scan of
 * 100k points of d = 384 takes tens of ms); the reference the indexed backends are measured against.
 */
export class MemoryVectorStore implements VectorStore {
  readonly #collections = new Map<string, Collection>();

  async check(): Promise<void> {}

  async open(): Promise<void> {}

  async describe(collection: string): Promise<VectorCollectionShape | undefined> {
    return this.#collections.get(collection)?.shape;
  }

  async ensureCollection(collection: string, shape: VectorCollectionShape): Promise<void> {
    const existing = this.#collections.get(collection);
    if (existing === undefined) this.#collections.set(collection, { shape: { ...shape }, points: new Map() });
    else if (existing.shape.dimension !== shape.dimension || existing.shape.metric !== shape.metric) {
      throw new VectorStoreError(messages.collectionShapeDiffers(collection, existing.shape, shape));
    }
  }

  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    const { shape, points: stored } = this.#collection(collection);
    checkPoints(collection, points);
    for (const point of points) {
      if (point.vector.length !== shape.dimension) throw new VectorStoreError(messages.vectorDimension(collection, point.vector.length, shape.dimension));
      const vector = Float64Array.from(point.vector);
      stored.set(point.id, { id: point.id, vector, norm: Math.sqrt(dot(vector, vector)), text: point.text, payload: point.payload });
    }
  }

  async query(collection: string, vector: readonly number[], query: VectorQuery): Promise<VectorHit[]> {
    checkFiniteVector(collection, vector);
    const found = this.#collections.get(collection);
    if (found === undefined || query.topK < 1) return [];
    const filter = queryFilter(query);
    const target = Float64Array.from(vector);
    const targetNorm = Math.sqrt(dot(target, target));
    // The best topK so far, nearest first: a scan keeps only those, never sorting the collection.
    const best: Array<{ point: StoredPoint; score: number }> = [];
    for (const point of found.points.values()) {
      if (filter !== undefined && !matchesFilter(point.payload, filter)) continue;
      const hit = { point, score: score(found.shape.metric, target, targetNorm, point) };
      if (best.length === query.topK && !nearer(hit, best[best.length - 1]!)) continue;
      let at = best.length;
      while (at > 0 && nearer(hit, best[at - 1]!)) at--;
      best.splice(at, 0, hit);
      if (best.length > query.topK) best.pop();
    }
    return best.map(({ point, score }) => ({ id: point.id, score, ...(point.text !== undefined ? { text: point.text } : {}), payload: point.payload }));
  }

  async delete(collection: string, ids: readonly string[]): Promise<void> {
    const found = this.#collections.get(collection);
    for (const id of ids) found?.points.delete(id);
  }

  async close(): Promise<void> {}

  #collection(collection: string): Collection {
    const found = this.#collections.get(collection);
    if (found === undefined) throw new VectorStoreError(messages.vectorCollectionMissing(collection));
    return found;
  }
}

/** Whether `a` ranks before `b`: a higher score, or the same score and a smaller id. */
function nearer(a: { point: StoredPoint; score: number }, b: { point: StoredPoint; score: number }): boolean {
  return a.score > b.score || (a.score === b.score && a.point.id < b.point.id);
}

/** Whether a payload matches a filter: each key equal to its value, or to one of its list's. */
export function matchesFilter(payload: VectorPayload, filter: VectorFilter): boolean {
  for (const [key, wanted] of Object.entries(filter)) {
    const value = payload[key];
    if (Array.isArray(wanted) ? !wanted.includes(value as never) : value !== wanted) return false;
  }
  return true;
}

/** Higher is nearer, as every backend scores: cosine similarity, dot product, or negated Euclidean distance. */
function score(metric: VectorMetric, target: Float64Array, targetNorm: number, point: StoredPoint): number {
  if (metric === 'dot') return dot(target, point.vector);
  if (metric === 'cosine') return targetNorm === 0 || point.norm === 0 ? 0 : dot(target, point.vector) / (targetNorm * point.norm);
  let sum = 0;
  for (let i = 0; i < target.length; i++) {
    const d = target[i]! - point.vector[i]!;
    sum += d * d;
  }
  return -Math.sqrt(sum);
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
