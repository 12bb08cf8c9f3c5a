import { mkdirSync } from 'node:fs';
import { loadBackendPackages } from '../shared/optional-package.js';
import { PostgresVectorStore, sessionSettingsSql } from './postgres-vector-store.js';

/** Memory an index build may use in the embedded database (it is only taken while an index is built). */
const INDEX_BUILD_MEMORY = '512MB';

/** Options of the embedded store. */
export interface PGliteVectorStoreOptions {
  /** The data directory (made if missing); absent, the database lives in memory and is gone at exit. */
  readonly path?: string;
}

/**
 * The default vector store (`vector: { backend: pglite, path }`, DESIGN §10): Postgres with
 * pgvector compiled to WebAssembly (`@electric-sql/pglite`), in this process, on a data directory:
 * no server to start. One process at a time may open a data directory.
 */
export class PGliteVectorStore extends PostgresVectorStore {
  constructor(options: PGliteVectorStoreOptions = {}) {
    super(async () => {
      const [{ PGlite }, { vector }] = await loadPGlite();
      if (options.path !== undefined) mkdirSync(options.path, { recursive: true });
      const db = await PGlite.create({ ...(options.path !== undefined ? { dataDir: options.path } : {}), extensions: { vector } });
      // An HNSW index builds in memory when its graph fits in maintenance_work_mem (100k points of d = 384 need about 200 MB), else far slower.
      await db.exec(`CREATE EXTENSION IF NOT EXISTS vector; ${sessionSettingsSql()}; SET maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
      return { client: db, close: () => db.close() };
    });
  }

  override async check(): Promise<void> {
    await loadPGlite();
  }
}

function loadPGlite() {
  return loadBackendPackages('pglite', ['@electric-sql/pglite', '@electric-sql/pglite-pgvector'], () => Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-pgvector')]));
}
