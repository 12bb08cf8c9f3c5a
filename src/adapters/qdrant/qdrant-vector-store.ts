import { createHash } from 'node:crypto';
import type { QdrantClient } from '@qdrant/js-client-rest';
import { ConnectionError, VectorStoreError } from '../../framework/errors.js';
import { loadBackendPackages } from '../shared/optional-package.js';
import { messages } from '../../framework/messages.js';
import { checkFiniteVector, checkPoints, queryFilter } from '../../framework/vectors/store-input.js';
import type { VectorCollectionShape, VectorFilter, VectorHit, VectorMetric, VectorPayload, VectorPoint, VectorQuery } from '../../framework/model/vector.js';
import type { VectorStore } from '../../framework/ports/vector-store.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** Options of the Qdrant store. */
export interface QdrantVectorStoreOptions {
  /** The server's URL: `http://127.0.0.1:6333`. */
  readonly url: string;
  readonly apiKey?: string;
}

/** Qdrant's names of the metrics. */
const DISTANCES = { cosine: 'Cosine', dot: 'Dot', euclidean: 'Euclid' } as const satisfies Record<VectorMetric, string>;
/** Where a point's own id and text live in its Qdrant payload: Qdrant ids are UUIDs or integers. */
const ID_KEY = '__live_crew_id';
const TEXT_KEY = '__live_crew_text';
/** Points per request. */
const UPSERT_BATCH = 500;

/**
 * A vector store in a Qdrant server (`vector: { backend: qdrant, url }`, DESIGN §10), through the
 * official REST client. A point's id becomes a UUID derived from it (Qdrant takes no other
 * strings); the id and text travel in the payload under reserved keys and are given back as such.
 */
export class QdrantVectorStore implements VectorStore {
  readonly #options: QdrantVectorStoreOptions;
  #client: QdrantClient | undefined;
  readonly #shapes = new Map<string, VectorCollectionShape>();

  constructor(options: QdrantVectorStoreOptions) {
    this.#options = options;
  }

  async check(): Promise<void> {
    await loadQdrant();
  }

  async open(): Promise<void> {
    const { QdrantClient: Client } = await loadQdrant();
    const client = new Client({ url: this.#options.url, checkCompatibility: false, ...(this.#options.apiKey !== undefined ? { apiKey: this.#options.apiKey } : {}) });
    try {
      await client.getCollections();
    } catch (error) {
      throw new ConnectionError(messages.vectorBackendUnreachable('qdrant', this.#options.url, describeThrown(error)), { cause: error });
    }
    this.#client = client;
  }

  async describe(collection: string): Promise<VectorCollectionShape | undefined> {
    const known = this.#shapes.get(collection);
    if (known !== undefined) return known;
    if (!(await this.#qdrant.collectionExists(collection)).exists) return undefined;
    const vectors = (await this.#qdrant.getCollection(collection)).config.params.vectors as { size?: number; distance?: string } | undefined;
    const metric = (Object.keys(DISTANCES) as VectorMetric[]).find((name) => DISTANCES[name] === vectors?.distance);
    if (vectors?.size === undefined || metric === undefined) throw new VectorStoreError(messages.qdrantVectorsUnusable(collection, JSON.stringify(vectors)));
    const shape = { dimension: vectors.size, metric };
    this.#shapes.set(collection, shape);
    return shape;
  }

  async ensureCollection(collection: string, shape: VectorCollectionShape): Promise<void> {
    const existing = await this.describe(collection);
    if (existing === undefined) {
      await this.#qdrant.createCollection(collection, { vectors: { size: shape.dimension, distance: DISTANCES[shape.metric] } });
      this.#shapes.set(collection, shape);
    } else if (existing.dimension !== shape.dimension || existing.metric !== shape.metric) {
      throw new VectorStoreError(messages.collectionShapeDiffers(collection, existing, shape));
    }
  }

  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    checkPoints(collection, points);
    // A request holding an id twice keeps the last, as upserts in order would.
    const last = [...new Map(points.map((point) => [point.id, point])).values()];
    for (let start = 0; start < last.length; start += UPSERT_BATCH) {
      await this.#qdrant.upsert(collection, {
        wait: true,
        points: last.slice(start, start + UPSERT_BATCH).map((point) => ({
          id: uuidOf(point.id),
          vector: [...point.vector],
          payload: { ...point.payload, [ID_KEY]: point.id, ...(point.text !== undefined ? { [TEXT_KEY]: point.text } : {}) },
        })),
      });
    }
  }

  async query(collection: string, vector: readonly number[], query: VectorQuery): Promise<VectorHit[]> {
    checkFiniteVector(collection, vector);
    const shape = await this.describe(collection);
    if (shape === undefined || query.topK < 1) return [];
    const filter = queryFilter(query);
    const { points } = await this.#qdrant.query(collection, { query: [...vector], limit: query.topK, with_payload: true, ...(filter !== undefined ? { filter: filterOf(filter) } : {}) });
    // Qdrant scores Euclid by distance (lower nearer); every store here scores higher-nearer.
    const hits = points.map((point): VectorHit => {
      const { [ID_KEY]: id, [TEXT_KEY]: text, ...payload } = (point.payload ?? {}) as Record<string, unknown>;
      return { id: String(id), score: shape.metric === 'euclidean' ? -point.score : point.score, ...(typeof text === 'string' ? { text } : {}), payload: payload as VectorPayload };
    });
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async delete(collection: string, ids: readonly string[]): Promise<void> {
    if ((await this.describe(collection)) === undefined) return;
    await this.#qdrant.delete(collection, { wait: true, points: ids.map(uuidOf) });
  }

  async close(): Promise<void> {
    this.#client = undefined;
  }

  get #qdrant(): QdrantClient {
    if (this.#client === undefined) throw new VectorStoreError(messages.vectorStoreNotOpen());
    return this.#client;
  }
}

function loadQdrant() {
  return loadBackendPackages('qdrant', ['@qdrant/js-client-rest'], () => import('@qdrant/js-client-rest'));
}

/** A point id as a UUID (name-based, SHA-1, as RFC 9562's version 5): the same id always gives the same UUID. */
function uuidOf(id: string): string {
  const hex = createHash('sha1').update(`live-crew:${id}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A filter as Qdrant's: every key must match (`must`), a list by any of its values (`should`). */
function filterOf(filter: VectorFilter): Record<string, unknown> {
  return {
    must: Object.entries(filter).map(([key, wanted]) => (Array.isArray(wanted) ? { should: wanted.map((value) => ({ key, match: { value } })) } : { key, match: { value: wanted } })),
  };
}
