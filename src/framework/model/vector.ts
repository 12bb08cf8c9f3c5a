/**
 * Vector collections, points, filters and hits (DESIGN §10): the values a vector store and a handler exchange.
 */
import type { JsonValue } from './json.js';

/** How a vector collection measures nearness. */
export type VectorMetric = 'cosine' | 'dot' | 'euclidean';

/** What every vector of a collection has: its length, and how nearness is measured. */
export interface VectorCollectionShape {
  readonly dimension: number;
  readonly metric: VectorMetric;
}

/** A JSON object: a point's payload. */
export type VectorPayload = Readonly<Record<string, JsonValue>>;

/** A point of a collection: its id, its vector, the text it was embedded from (if any), its payload. */
export interface VectorPoint {
  readonly id: string;
  readonly vector: readonly number[];
  readonly text?: string;
  readonly payload: VectorPayload;
}

/** A value a payload key is matched against. */
export type VectorFilterValue = string | number | boolean;

/**
 * A payload filter: every key named must match, a value by equality, a list by holding any of
 * its values (`{ kind: ['goal', 'chance'], team: 'home' }`). Keys are top-level payload keys.
 */
export type VectorFilter = Readonly<Record<string, VectorFilterValue | readonly VectorFilterValue[]>>;

/** What a query asks for: the `topK` nearest points whose payload matches `filter`. */
export interface VectorQuery {
  readonly topK: number;
  readonly filter?: VectorFilter;
}

/**
 * A point found by a query. `score` is higher the nearer: the cosine similarity, the dot product,
 * or the negated Euclidean distance, by the collection's metric.
 */
export interface VectorHit {
  readonly id: string;
  readonly score: number;
  readonly text?: string;
  readonly payload: VectorPayload;
}

/** What a call holds for its slice's merge: points to upsert into a collection, or ids to delete from it. */
export type VectorWrite = { readonly collection: string; readonly upsert: readonly VectorPoint[] } | { readonly collection: string; readonly delete: readonly string[] };
