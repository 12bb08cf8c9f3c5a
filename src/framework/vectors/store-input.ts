import { VectorStoreError } from '../errors.js';
import { messages } from '../messages.js';
import type { VectorFilter, VectorPoint, VectorQuery } from '../model/vector.js';

/**
 * What every `VectorStore` checks of what it is given, so the backends agree on the edges
 * whoever calls them (a crew's calls are checked before, `vector-input.ts`; a program may call a
 * store directly).
 */

/** @throws VectorStoreError naming the collection and the first number of `vector` that is not finite */
export function checkFiniteVector(collection: string, vector: readonly number[]): void {
  for (let i = 0; i < vector.length; i++) {
    const n = vector[i]!;
    if (!Number.isFinite(n)) throw new VectorStoreError(messages.vectorNotFinite(collection, i, n));
  }
}

/** @throws VectorStoreError for a point whose vector is not finite numbers */
export function checkPoints(collection: string, points: readonly VectorPoint[]): void {
  for (const point of points) checkFiniteVector(collection, point.vector);
}

/** The filter a query applies: none for an absent or empty one (`{}` keeps every point). */
export function queryFilter(query: VectorQuery): VectorFilter | undefined {
  return query.filter === undefined || Object.keys(query.filter).length === 0 ? undefined : query.filter;
}
