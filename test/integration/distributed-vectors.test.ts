import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, stopAll, storedMessages, type CliProcess } from './distributed-cluster.js';
import { natsServer, serverForSuite } from './servers.js';

const start = natsServer();
const STREAM = 'vectors_1';
const CREWS = join(import.meta.dirname, '..', 'fixtures', 'vector-crews.js');

describe.skipIf(start === undefined)('vector search across distributed runners', () => {
  const server = serverForSuite(start!);
  let postgres: { db: PGlite; socket: PGLiteSocketServer };
  let dir: string;
  const processes: CliProcess[] = [];
  beforeAll(async () => {
    const db = await PGlite.create({ extensions: { vector } });
    const socket = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
    await socket.start();
    postgres = { db, socket };
    dir = mkdtempSync(join(tmpdir(), 'live-crew-distributed-vectors-'));
    writeFileSync(
      join(dir, 'live-config.yaml'),
      `embedders:\n  default: { provider: hash, dimensions: 32 }\nvector:\n  backend: pgvector\n  url: postgres://postgres@${socket.getServerConn()}/postgres\n`,
    );
    const moments = [
      ['chance', 3, 'Kane header over the bar from a corner'],
      ['goal', 9, 'Kane scores a header from a corner'],
      ['question', 20, 'any header from a corner'],
    ] as const;
    const events = moments.map(([kind, minute, text], n) =>
      JSON.stringify({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + n * 600).toISOString(), kind, stream_id: STREAM, payload: { minute, text } }),
    );
    writeFileSync(join(dir, 'events.jsonl'), `${events.join('\n')}\n`);
  });
  afterAll(async () => {
    await stopAll(processes);
    await postgres?.socket.stop();
    await postgres?.db.close();
  });

  it("a runner's upserts of slice n are in the shared store before another runner's searches of slice n+1", async () => {
    // Each runner applies its crews' writes of a slice before it reports the slice done, so the
    // scheduler sends slice n+1's work only once they are in; a search of slice n may also see
    // what another runner upserted in slice n (its hits are journaled: a replay is exact).
    const url = server().url;
    const common = ['--crews', CREWS, '--config', join(dir, 'live-config.yaml'), '--stream', STREAM, '--nats-url', url];
    expect(runCli(['publish', join(dir, 'events.jsonl'), '--end', '--nats-url', url]).status).toBe(0);
    processes.push(startCli(['runner', ...common, '--selector', '^indexer$']), startCli(['runner', ...common, '--selector', '^finder$']));
    const scheduler = startCli(['scheduler', ...common]);
    processes.push(scheduler);
    expect(await scheduler.exited, scheduler.stderr()).toBe(0);
    const published = (await storedMessages(url, 'LIVE_ACTIONS')).map((text) => JSON.parse(text).payload);
    expect(published).toEqual([
      { minute: 9, ids: expect.arrayContaining(['chance-3']) },
      { minute: 20, ids: expect.toSatisfy((ids: string[]) => [...ids].sort().join() === 'chance-3,goal-9') },
    ]);
  });
});
