import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
const db = await PGlite.create({ extensions: { vector } });
const efc = process.argv[3] ?? '64';
await db.exec(`CREATE EXTENSION vector; CREATE TABLE t (id text primary key, embedding vector(384), text text, payload jsonb); CREATE INDEX ON t USING hnsw (embedding vector_cosine_ops) WITH (ef_construction = ${efc})`);
const d = 384, n = Number(process.argv[2] ?? 5000);
let seed = 1; const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return ((seed >>> 0) / 2 ** 32) * 2 - 1; };
let t0 = performance.now();
for (let i = 0; i < n; i += 500) {
  const ids = [], es = [], ps = [];
  for (let j = i; j < Math.min(n, i + 500); j++) { ids.push('p' + j); es.push(JSON.stringify(Array.from({ length: d }, rnd))); ps.push('{}'); }
  await db.query('INSERT INTO t (id, embedding, payload) SELECT id, e::vector, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, e, p)', [ids, es, ps]);
}
console.log('with index efc', efc, (n / ((performance.now() - t0) / 1000)).toFixed(0), '/s');
await db.close();
