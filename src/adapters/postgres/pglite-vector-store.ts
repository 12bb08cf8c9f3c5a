import { mkdirSync } from 'node:fs';
import { VectorStoreError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { lockDirectory, type DirectoryLock } from '../shared/directory-lock.js';
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
 * no server to start. One process at a time may open a data directory: a second is refused at
 * start, naming the directory and the process that holds it (two would lose each other's writes).
 */
export class PGliteVectorStore extends PostgresVectorStore {
  constructor(options: PGliteVectorStoreOptions = {}) {
    super(async () => {
      const [{ PGlite }, { vector }] = await loadPGlite();
      const lock = options.path === undefined ? undefined : holdDataDirectory(options.path);
      try {
        const db = await PGlite.create({ ...(options.path !== undefined ? { dataDir: options.path } : {}), extensions: { vector } });
        // An HNSW index builds in memory when its graph fits in maintenance_work_mem (100k points of d = 384 need about 200 MB), else far slower.
        await db.exec(`CREATE EXTENSION IF NOT EXISTS vector; ${sessionSettingsSql()}; SET maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
        return {
          client: db,
          close: async () => {
            await db.close();
            lock?.release();
          },
        };
      } catch (error) {
        lock?.release();
        throw error;
      }
    });
  }

  override async check(): Promise<void> {
    await loadPGlite();
  }
}

function loadPGlite() {
  return loadBackendPackages('pglite', ['@electric-sql/pglite', '@electric-sql/pglite-pgvector'], () => Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-pgvector')]));
}

/**
 * Makes the data directory if missing and takes it for this process.
 *
 * @throws VectorStoreError naming the directory and its holder when another process has it open
 */
function holdDataDirectory(path: string): DirectoryLock {
  mkdirSync(path, { recursive: true });
  const lock = lockDirectory(path);
  if ('release' in lock) return lock;
  throw new VectorStoreError(messages.dataDirectoryHeld(path, lock.heldBy));
}
