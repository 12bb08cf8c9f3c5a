import { ConnectionError } from '../../framework/errors.js';
import { loadBackendPackages } from '../shared/optional-package.js';
import { withoutPassword } from '../shared/shown-url.js';
import { messages } from '../../framework/messages.js';
import { PostgresVectorStore, SESSION_SETTINGS } from './postgres-vector-store.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** Connections the store keeps open: searches of concurrent calls go in parallel. */
const POOL_SIZE = 4;

/**
 * A vector store in any Postgres server with the pgvector extension (`vector: { backend:
 * pgvector, url }`, DESIGN §10), through `pg`. The extension is created if the server has it.
 */
export class PgVectorStore extends PostgresVectorStore {
  constructor(url: string) {
    super(async () => {
      const pg = await loadPg();
      // Every connection starts with the session settings, as startup options.
      const pool = new pg.Pool({
        connectionString: url,
        max: POOL_SIZE,
        options: Object.entries(SESSION_SETTINGS)
          .map(([name, value]) => `-c ${name}=${value}`)
          .join(' '),
      });
      // An idle connection that breaks is replaced by the pool; the query that meets it fails and is reported.
      pool.on('error', () => {});
      try {
        await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
      } catch (error) {
        await pool.end();
        throw new ConnectionError(messages.vectorBackendUnreachable('pgvector', withoutPassword(url), describeThrown(error)), { cause: error });
      }
      return { client: pool, close: () => pool.end() };
    });
  }

  override async check(): Promise<void> {
    await loadPg();
  }
}

function loadPg() {
  return loadBackendPackages('pgvector', ['pg'], async () => (await import('pg')).default);
}
