/**
 * `live-crew/vectors`: vector stores (in memory, PGlite with pgvector, PostgreSQL with pgvector,
 * Qdrant), their client libraries optional peer dependencies. `vector.backend` selects them
 * without this import.
 */
export { MemoryVectorStore } from './adapters/memory/memory-vector-store.js';
export { PostgresVectorStore, type SqlClient } from './adapters/postgres/postgres-vector-store.js';
export { PGliteVectorStore, type PGliteVectorStoreOptions } from './adapters/postgres/pglite-vector-store.js';
export { PgVectorStore } from './adapters/postgres/pg-vector-store.js';
export { QdrantVectorStore, type QdrantVectorStoreOptions } from './adapters/qdrant/qdrant-vector-store.js';
