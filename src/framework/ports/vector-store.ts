/**
 * Where vector collections are kept and searched (DESIGN §10).
 */
import type { VectorCollectionShape, VectorHit, VectorPoint, VectorQuery } from '../model/vector.js';

/**
 * Keeps vector collections and finds the points nearest a vector (DESIGN §10). The core calls it
 * from handler calls (queries, journaled as decisions) and at slice merges (upserts and deletes,
 * in merge order). Every backend passes the same contract suite (`test/integration/vector-store-contract.ts`).
 */
export interface VectorStore {
  /**
   * Finds what `open` needs without opening or connecting (`live-crew validate`).
   *
   * @throws ConfigError naming the package to install, for one that cannot be loaded
   */
  check(): Promise<void>;
  /** Connects, or opens the embedded database, before anything runs. */
  open(): Promise<void>;
  /** The shape of a collection, or undefined when it does not exist. */
  describe(collection: string): Promise<VectorCollectionShape | undefined>;
  /**
   * Creates a collection with that shape; one that exists with the same shape is kept.
   *
   * @throws VectorStoreError when it exists with another shape
   */
  ensureCollection(collection: string, shape: VectorCollectionShape): Promise<void>;
  /** Inserts points, or replaces those with the same id, in order (the last of an id wins). The collection exists. */
  upsert(collection: string, points: readonly VectorPoint[]): Promise<void>;
  /** The `topK` points nearest `vector` whose payload matches the filter, nearest first (ties by id); none for a collection that does not exist. */
  query(collection: string, vector: readonly number[], query: VectorQuery): Promise<VectorHit[]>;
  /** Removes the points with these ids; ids it does not hold are ignored. */
  delete(collection: string, ids: readonly string[]): Promise<void>;
  /** Releases connections, or closes the database. Safe to call twice. */
  close(): Promise<void>;
}
