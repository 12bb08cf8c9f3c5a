import { z } from 'zod';
import { MODEL_NAME_PATTERN } from '../discovery/crew-knobs.js';

/**
 * A collection's name: lower-case letters, digits and `_`, starting with a letter, so it is the
 * same table, collection or key in every backend (Postgres folds case, Qdrant keeps it).
 */
export const COLLECTION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;

/** How nearness is measured in a collection. */
const VECTOR_METRICS = ['cosine', 'dot', 'euclidean'] as const;

/** The vector store backends this build ships (DESIGN §10). */
const VECTOR_BACKENDS = ['pglite', 'memory', 'pgvector', 'qdrant'] as const;

const CollectionShapeSchema = z.strictObject({
  /** The vector length; default: what its first vectors have. */
  dimension: z
    .number({ error: 'must be a number (the vector length)' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be >= 1' })
    .max(16_000, { error: 'must be at most 16000' })
    .optional(),
  /** How nearness is measured (default cosine). */
  metric: z.enum(VECTOR_METRICS, { error: `must be one of ${VECTOR_METRICS.join(', ')}` }).optional(),
  /** The embedder its texts are embedded with (default: `vector.embedder`). */
  embedder: z.string({ error: 'must be an embedder name from embedders:' }).regex(MODEL_NAME_PATTERN, { error: 'must be an embedder name from embedders:' }).optional(),
});

/**
 * `vector:` (DESIGN §10): where `ctx.vectors(collection)` keeps its points. Absent: vector
 * search is off. The original spec's `{ backend: qdrant, url: http://qdrant:6333 }` is valid as is.
 */
export const VectorConfigSchema = z
  .strictObject({
    /** `pglite` (embedded Postgres with pgvector, the default), `memory` (exact, not kept), `pgvector` (a Postgres server), `qdrant`. */
    backend: z.enum(VECTOR_BACKENDS, { error: `must be one of ${VECTOR_BACKENDS.join(', ')}` }).default('pglite'),
    /** `pglite`: the data directory; absent, the database lives in memory and is gone at exit. */
    path: z.string({ error: 'must be a directory path' }).min(1, { error: 'must not be empty' }).optional(),
    /** `pgvector`: a postgres:// URL; `qdrant`: the server's http(s):// URL. */
    url: z.url({ protocol: /^(postgres|postgresql|https?)$/, error: 'must be a postgres:// URL (pgvector) or an http(s):// URL (qdrant)' }).optional(),
    /** `qdrant`: the env var holding its API key, if it wants one. */
    api_key_env: z
      .string({ error: 'must be the name of an environment variable' })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be the name of an environment variable (letters, digits, _)' })
      .optional(),
    /** The embedder (its name in `embedders:`) that turns texts into vectors; default: the only one, else `default`. */
    embedder: z.string({ error: 'must be an embedder name from embedders:' }).regex(MODEL_NAME_PATTERN, { error: 'must be an embedder name from embedders:' }).optional(),
    /** Collections by name, where one needs a fixed dimension, another metric or its own embedder. */
    collections: z
      .record(z.string().regex(COLLECTION_NAME_PATTERN, { error: 'a collection name is a lower-case letter, then lower-case letters, digits or _ (48 at most)' }), CollectionShapeSchema, {
        error: 'must map collection names to { dimension?, metric?, embedder? }',
      })
      .optional(),
  })
  .superRefine((vector, context) => {
    const scheme = vector.url?.split(':')[0];
    if (vector.backend === 'pgvector' && (scheme === undefined || !scheme.startsWith('postgres'))) {
      context.addIssue({ code: 'custom', path: ['url'], input: vector.url, message: 'the pgvector backend needs url: a postgres://user@host:5432/db URL' });
    }
    if (vector.backend === 'qdrant' && (scheme === undefined || !scheme.startsWith('http'))) {
      context.addIssue({ code: 'custom', path: ['url'], input: vector.url, message: "the qdrant backend needs url: the server's http(s):// URL (http://127.0.0.1:6333)" });
    }
    if (vector.path !== undefined && vector.backend !== 'pglite')
      context.addIssue({ code: 'custom', path: ['path'], input: vector.path, message: `is for the pglite backend; ${vector.backend} does not take one` });
  });

/** The `vector:` section as configured. */
export type VectorConfig = z.infer<typeof VectorConfigSchema>;
