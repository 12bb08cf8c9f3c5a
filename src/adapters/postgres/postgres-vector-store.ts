import { VectorStoreError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { checkFiniteVector, checkPoints, queryFilter } from '../../framework/vectors/store-input.js';
import type { VectorCollectionShape, VectorFilter, VectorHit, VectorMetric, VectorPayload, VectorPoint, VectorQuery } from '../../framework/model/vector.js';
import type { VectorStore } from '../../framework/ports/vector-store.js';

/** What the store needs of a Postgres connection: PGlite and a `pg` pool both are one. */
export interface SqlClient {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** Per metric: pgvector's distance operator, its HNSW operator class, and the score (higher nearer) of a distance `d`. */
const METRICS: Record<VectorMetric, { readonly operator: string; readonly opclass: string; readonly score: (distance: number) => number }> = {
  cosine: { operator: '<=>', opclass: 'vector_cosine_ops', score: (distance) => 1 - distance },
  // `<#>` is the negated inner product, so the nearest sorts first.
  dot: { operator: '<#>', opclass: 'vector_ip_ops', score: (distance) => -distance },
  euclidean: { operator: '<->', opclass: 'vector_l2_ops', score: (distance) => -distance },
};

/** pgvector indexes `vector` columns of at most this many dimensions; longer ones are searched exactly. */
const HNSW_MAX_DIMENSION = 2000;
/**
 * A collection is searched exactly (a scan: exact, and a few ms) until it holds this many points;
 * then it gets its HNSW index. Building an index over loaded points is several times faster than
 * growing it point by point, as pgvector's documentation advises for bulk loads.
 */
const INDEX_MIN_POINTS = 5_000;
/** Rows per INSERT: big enough to amortise the round trip, small enough for any server's parameter size. */
const UPSERT_BATCH = 500;
/**
 * Candidates an HNSW search keeps (pgvector's default is 40): recall@10 of 0.95 and more on 100k
 * points (`npm run bench:vectors`) for a fraction of a millisecond more per query.
 */
const EF_SEARCH = 100;

/** The registry of collections and their shapes: what `describe` reads and `ensureCollection` writes. */
const REGISTRY = 'live_crew_vector_collections';

/**
 * Session settings every connection takes: more HNSW candidates, and iterative index scans, so a
 * filtered query still finds `topK` points when few match (pgvector 0.8).
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = { 'hnsw.ef_search': String(EF_SEARCH), 'hnsw.iterative_scan': 'strict_order' };

/** The session settings as SQL statements. */
export function sessionSettingsSql(): string {
  return Object.entries(SESSION_SETTINGS)
    .map(([name, value]) => `SET ${name} = ${value}`)
    .join('; ');
}

/**
 * A vector store in Postgres with the pgvector extension (DESIGN §10): one table per collection
 * (`lcv_<name>`: id, vector, text, JSONB payload) with an HNSW index for its metric, and a
 * registry of the collections' shapes. The `pglite` (embedded) and `pgvector` (a server) backends
 * are this store over their own connection; give it yours (a `pg` pool, a PGlite) with `connect`.
 *
 * @example
 * ```ts
 * const store = new PostgresVectorStore(async () => ({ client: pool, close: async () => {} }));
 * await createLiveCrewApp({ crews, providers: [{ token: VECTOR_STORE, useValue: store }] });
 * ```
 */
export class PostgresVectorStore implements VectorStore {
  readonly #connect: () => Promise<{ client: SqlClient; close(): Promise<void> }>;
  #connection: { client: SqlClient; close(): Promise<void> } | undefined;
  readonly #shapes = new Map<string, VectorCollectionShape>();
  /** Per collection: whether it has its index, and about how many points it holds (upserts of existing ids count too). */
  readonly #indexes = new Map<string, { indexed: boolean; points: number }>();

  /** @param connect opens the connection, with the vector extension created and the session settings applied */
  constructor(connect: () => Promise<{ client: SqlClient; close(): Promise<void> }>) {
    this.#connect = connect;
  }

  /** Nothing to find beyond the connection given. */
  async check(): Promise<void> {}

  async open(): Promise<void> {
    this.#connection ??= await this.#connect();
    await this.#sql.query(`CREATE TABLE IF NOT EXISTS ${REGISTRY} (name text PRIMARY KEY, dimension integer NOT NULL, metric text NOT NULL)`);
  }

  async describe(collection: string): Promise<VectorCollectionShape | undefined> {
    const known = this.#shapes.get(collection);
    if (known !== undefined) return known;
    const { rows } = await this.#sql.query<{ dimension: number; metric: VectorMetric }>(`SELECT dimension, metric FROM ${REGISTRY} WHERE name = $1`, [collection]);
    const shape = rows[0] === undefined ? undefined : { dimension: rows[0].dimension, metric: rows[0].metric };
    if (shape !== undefined) this.#shapes.set(collection, shape);
    return shape;
  }

  async ensureCollection(collection: string, shape: VectorCollectionShape): Promise<void> {
    const existing = await this.describe(collection);
    if (existing !== undefined) {
      if (existing.dimension !== shape.dimension || existing.metric !== shape.metric) throw new VectorStoreError(messages.collectionShapeDiffers(collection, existing, shape));
      return;
    }
    await this.#sql.query(`CREATE TABLE IF NOT EXISTS ${tableName(collection)} (id text PRIMARY KEY, embedding vector(${shape.dimension}) NOT NULL, text text, payload jsonb NOT NULL DEFAULT '{}')`);
    await this.#sql.query(`INSERT INTO ${REGISTRY} (name, dimension, metric) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [collection, shape.dimension, shape.metric]);
    // Another process may have made it first, with another shape.
    this.#shapes.delete(collection);
    const made = await this.describe(collection);
    if (made!.dimension !== shape.dimension || made!.metric !== shape.metric) throw new VectorStoreError(messages.collectionShapeDiffers(collection, made!, shape));
  }

  async upsert(collection: string, points: readonly VectorPoint[]): Promise<void> {
    checkPoints(collection, points);
    const index = await this.#indexState(collection);
    // A load as big as the collection goes in without the index, which is built again after it.
    if (index.indexed && points.length >= INDEX_MIN_POINTS && points.length >= index.points) {
      await this.#sql.query(`DROP INDEX IF EXISTS ${indexName(collection)}`);
      index.indexed = false;
    }
    // One statement cannot touch a row twice: the last point of an id wins, as upserts in order would.
    const last = [...new Map(points.map((point) => [point.id, point])).values()];
    for (let start = 0; start < last.length; start += UPSERT_BATCH) {
      const batch = last.slice(start, start + UPSERT_BATCH);
      await this.#sql.query(
        `INSERT INTO ${tableName(collection)} (id, embedding, text, payload)
         SELECT id, embedding::vector, text, payload::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS point(id, embedding, text, payload)
         ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding, text = excluded.text, payload = excluded.payload`,
        [batch.map((point) => point.id), batch.map((point) => JSON.stringify(point.vector)), batch.map((point) => point.text ?? null), batch.map((point) => JSON.stringify(point.payload))],
      );
    }
    index.points += last.length;
    const shape = (await this.describe(collection))!;
    if (!index.indexed && index.points >= INDEX_MIN_POINTS && shape.dimension <= HNSW_MAX_DIMENSION) {
      await this.#sql.query(`CREATE INDEX IF NOT EXISTS ${indexName(collection)} ON ${tableName(collection)} USING hnsw (embedding ${METRICS[shape.metric].opclass})`);
      index.indexed = true;
    }
  }

  /** Whether a collection has its index and how many points it holds, read once, then kept up to date. */
  async #indexState(collection: string): Promise<{ indexed: boolean; points: number }> {
    let index = this.#indexes.get(collection);
    if (index === undefined) {
      const [{ rows: counted }, { rows: indexes }] = await Promise.all([
        this.#sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tableName(collection)}`),
        this.#sql.query(`SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [tableName(collection), indexName(collection)]),
      ]);
      index = { indexed: indexes.length > 0, points: counted[0]!.n };
      this.#indexes.set(collection, index);
    }
    return index;
  }

  async query(collection: string, vector: readonly number[], query: VectorQuery): Promise<VectorHit[]> {
    checkFiniteVector(collection, vector);
    const shape = await this.describe(collection);
    if (shape === undefined || query.topK < 1) return [];
    const { operator, score } = METRICS[shape.metric];
    const params: unknown[] = [JSON.stringify(vector), query.topK];
    const filter = queryFilter(query);
    const where = filter === undefined ? '' : `WHERE ${filterSql(filter, params)}`;
    const { rows } = await this.#sql.query<{ id: string; distance: number; text: string | null; payload: VectorPayload }>(
      `SELECT id, text, payload, embedding ${operator} $1::vector AS distance FROM ${tableName(collection)} ${where} ORDER BY embedding ${operator} $1::vector LIMIT $2`,
      params,
    );
    // The index orders by distance alone; ties go by id, as every backend orders them.
    rows.sort((a, b) => Number(a.distance) - Number(b.distance) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return rows.map((row) => ({ id: row.id, score: score(Number(row.distance)), ...(row.text !== null ? { text: row.text } : {}), payload: row.payload }));
  }

  async delete(collection: string, ids: readonly string[]): Promise<void> {
    if ((await this.describe(collection)) === undefined) return;
    await this.#sql.query(`DELETE FROM ${tableName(collection)} WHERE id = ANY($1::text[])`, [ids]);
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }

  get #sql(): SqlClient {
    if (this.#connection === undefined) throw new VectorStoreError(messages.vectorStoreNotOpen());
    return this.#connection.client;
  }
}

/** Collection names are checked against a lower-case pattern before they get here: safe as identifiers. */
function tableName(collection: string): string {
  return `lcv_${collection}`;
}

function indexName(collection: string): string {
  return `lcv_${collection}_hnsw`;
}

/** A filter as SQL over the payload: each key by JSONB containment, a list as any of its values; values go in `params`. */
function filterSql(filter: VectorFilter, params: unknown[]): string {
  const contains = (key: string, value: unknown) => {
    params.push(JSON.stringify({ [key]: value }));
    return `payload @> $${params.length}::jsonb`;
  };
  return Object.entries(filter)
    .map(([key, wanted]) => (Array.isArray(wanted) ? `(${wanted.map((value) => contains(key, value)).join(' OR ')})` : contains(key, wanted)))
    .join(' AND ');
}
