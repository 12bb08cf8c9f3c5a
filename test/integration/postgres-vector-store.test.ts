import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { describe, expect, it } from 'vitest';
import { PGliteVectorStore } from '../../src/adapters/postgres/pglite-vector-store.js';
import { PgVectorStore } from '../../src/adapters/postgres/pg-vector-store.js';
import { ConnectionError } from '../../src/framework/errors.js';
import { describeVectorStoreContract, seededVectors } from './vector-store-contract.js';

describeVectorStoreContract('pglite (in memory)', () => ({ open: async () => openStore(new PGliteVectorStore()) }));

describe('pglite on a data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-pglite-'));
  describeVectorStoreContract('pglite (data directory)', () => ({
    open: async () => openStore(new PGliteVectorStore({ path: join(dir, 'vectors') })),
    reopen: async (store) => {
      await store.close();
      return openStore(new PGliteVectorStore({ path: join(dir, 'vectors') }));
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  }));
});

describe('pglite: one process per data directory', () => {
  it('refuses a second opening of a held directory, naming it and its holder; opens it again once released, and takes over a lock whose process is gone', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'live-crew-pglite-')), 'vectors');
    const first = await openStore(new PGliteVectorStore({ path: dir }));
    await first.ensureCollection('held', { dimension: 2, metric: 'cosine' });
    await first.upsert('held', [{ id: 'a', vector: [1, 0], payload: {} }]);
    const second = new PGliteVectorStore({ path: dir });
    await expect(second.open()).rejects.toThrow(
      new RegExp(`vector store data directory ${dir} is in use by process ${process.pid} on ${hostname()} \\(since .*\\): one process at a time may open it`),
    );
    await first.close();
    const again = await openStore(new PGliteVectorStore({ path: dir }));
    expect((await again.query('held', [1, 0], { topK: 1 })).map((hit) => hit.id)).toEqual(['a']);
    await again.close();
    // A process killed with the directory open left its lock behind.
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(join(dir, 'live-crew.lock'), JSON.stringify({ pid: gone, host: hostname(), since: '2026-01-01T00:00:00.000Z', command: 'killed' }));
    const afterCrash = await openStore(new PGliteVectorStore({ path: dir }));
    expect((await afterCrash.query('held', [1, 0], { topK: 1 })).map((hit) => hit.id)).toEqual(['a']);
    await afterCrash.close();
  });
});

/**
 * The `pgvector` backend speaks the Postgres wire protocol through `pg`: here to PGlite served over
 * a socket on 127.0.0.1 (`@electric-sql/pglite-socket`), a real Postgres protocol server with the
 * extension, started by the suite.
 */
describeVectorStoreContract('pgvector (pg, over the wire to a PGlite socket server)', () => {
  let served: { db: PGlite; server: PGLiteSocketServer } | undefined;
  return {
    open: async () => {
      const db = await PGlite.create({ extensions: { vector } });
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
      await server.start();
      served = { db, server };
      return openStore(new PgVectorStore(`postgres://postgres@${server.getServerConn()}/postgres`));
    },
    close: async () => {
      await served?.server.stop();
      await served?.db.close();
    },
  };
});

const externalUrl = process.env['PGVECTOR_URL'];
if (externalUrl === undefined)
  process.stderr.write('\n*** PGVECTOR_URL is not set: the pgvector contract against an external Postgres server is SKIPPED (it runs against a PGlite socket server instead) ***\n\n');
describe.runIf(externalUrl !== undefined)('pgvector against PGVECTOR_URL', () => {
  describeVectorStoreContract(`pgvector (${externalUrl})`, () => ({ open: async () => openStore(new PgVectorStore(externalUrl!)) }));
});

describe('pgvector: a server it cannot reach', () => {
  it('fails to open naming the backend and the URL, without its password', async () => {
    const store = new PgVectorStore('postgres://app:secret@127.0.0.1:1/db');
    const opened = store.open();
    await expect(opened).rejects.toThrow(ConnectionError);
    await expect(new PgVectorStore('postgres://app:secret@127.0.0.1:1/db').open()).rejects.toThrow(/^vector\.backend: pgvector at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/db cannot be reached: /);
  });
});

async function openStore<T extends { open(): Promise<void> }>(store: T): Promise<T> {
  await store.open();
  return store;
}

describe('pgvector: the HNSW index', () => {
  it('is built once a collection holds 5,000 points, not before, with the operator class of its metric', async () => {
    const db = await PGlite.create({ extensions: { vector } });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    const store = await openStore(new PgVectorStore(`postgres://postgres@${server.getServerConn()}/postgres`));
    try {
      const indexes = async () =>
        (await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'lcv_plays'")).rows.map((row) => row.indexdef).filter((def) => def.includes('hnsw'));
      await store.ensureCollection('plays', { dimension: 4, metric: 'dot' });
      const points = seededVectors(5_000, 4, 5).map((vector, i) => ({ id: `p${i}`, vector, payload: {} }));
      await store.upsert('plays', points.slice(0, 4_999));
      expect(await indexes()).toEqual([]);
      await store.upsert('plays', points.slice(4_999));
      expect(await indexes()).toEqual([expect.stringContaining('USING hnsw (embedding vector_ip_ops)')]);
    } finally {
      await store.close();
      await server.stop();
      await db.close();
    }
  });
});
