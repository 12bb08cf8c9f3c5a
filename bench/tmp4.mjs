import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
const db = await PGlite.create({ extensions: { vector } });
await db.exec('CREATE EXTENSION vector; CREATE TABLE t (id text primary key, embedding vector(384), text text, payload jsonb)');
const d = 384, n = Number(process.argv[2] ?? 5000), mwm = process.argv[3] ?? '64MB';
let seed = 1; const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return ((seed >>> 0) / 2 ** 32) * 2 - 1; };
let t0 = performance.now();
for (let i = 0; i < n; i += 500) {
  const ids = [], es = [], ps = [];
  for (let j = i; j < Math.min(n, i + 500); j++) { ids.push('p' + j); es.push(JSON.stringify(Array.from({ length: d }, rnd))); ps.push('{}'); }
  await db.query('INSERT INTO t (id, embedding, payload) SELECT id, e::vector, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, e, p)', [ids, es, ps]);
}
console.log('no index: ', (n / ((performance.now() - t0) / 1000)).toFixed(0), '/s');
t0 = performance.now();
await db.exec(`SET maintenance_work_mem = '${mwm}'`);
await db.exec('CREATE INDEX ON t USING hnsw (embedding vector_cosine_ops)');
console.log('index build', mwm, 'ms', (performance.now() - t0).toFixed(0));
await db.close();
