import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonlSink } from '../../src/adapters/file/jsonl-sink.js';
import { fileActionSink, fileErrorSink } from '../../src/adapters/file/file-sinks.js';
import { OutputError } from '../../src/framework/errors.js';
import { ERROR_KIND, ErrorReason, type ErrorRecord } from '../../src/framework/model/error-record.js';
import { isPromiseLike } from '../../src/framework/maybe-async.js';

const record: ErrorRecord = {
  ts: '2024-01-01T00:00:00.000Z',
  kind: ERROR_KIND,
  stream_id: 'm1',
  payload: { reason: ErrorReason.LateEvent, message: 'late', slice: 3, source: 'x:1' },
};

describe('JsonlSink', () => {
  it('writes one JSON line per record to a file, keys in a fixed order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'live-crew-sink-')), 'errors.jsonl');
    const sink = fileErrorSink(path);
    await sink.write([record, record]);
    await sink.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toEqual(['{"ts":"2024-01-01T00:00:00.000Z","kind":"__error","stream_id":"m1","payload":{"reason":"late_event","message":"late","slice":3,"source":"x:1"}}', lines[0], '']);
  });

  it('makes the writer wait while the stream is full, and go on once it drains', async () => {
    const chunks: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        release = done;
      },
    });
    const sink = new JsonlSink<string>(slow, (s) => JSON.stringify(s), false);
    const pending = sink.write(['a long enough line to fill the buffer']);
    expect(isPromiseLike(pending)).toBe(true);
    let resolved = false;
    void (pending as Promise<void>).then(() => (resolved = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(resolved).toBe(false);
    release!();
    await pending;
    expect(chunks).toEqual(['"a long enough line to fill the buffer"\n']);
  });

  it('refuses at once a file in a folder that does not exist, or a path that is a folder, saying which key and what to do', () => {
    expect(() => fileErrorSink('/nonexistent-dir/errors.jsonl')).toThrow(OutputError);
    expect(() => fileErrorSink('/nonexistent-dir/errors.jsonl')).toThrow(
      'cannot write error records to /nonexistent-dir/errors.jsonl (errors, --errors): the folder /nonexistent-dir does not exist; create it first',
    );
    expect(() => fileActionSink(tmpdir())).toThrow(`cannot write actions to ${tmpdir()} (output, --out): it is a folder; name a file in it`);
  });

  it('reports a stream that fails later (a full disk) as an OutputError naming the file', async () => {
    const failing = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) });
    const sink = new JsonlSink<string>(failing, (s) => JSON.stringify(s), false, { name: '/mnt/full/actions.jsonl', target: { what: 'actions', key: 'output, --out' } });
    const writeTwice = async () => {
      await sink.write(['a']);
      await new Promise((resolve) => setTimeout(resolve, 10));
      await sink.write(['b']);
    };
    await expect(writeTwice()).rejects.toThrow(new OutputError('cannot write actions to /mnt/full/actions.jsonl (output, --out): ENOSPC: no space left on device'));
  });

  it('writes a batch larger than any string can be in bounded chunks, losing nothing', async () => {
    // 9,000 lines of 60 KB: 540 MB, over V8's longest string (512 MB).
    const line = 'x'.repeat(60_000);
    let bytes = 0;
    let largest = 0;
    const sinkStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        largest = Math.max(largest, chunk.length);
        done();
      },
    });
    const sink = new JsonlSink<string>(sinkStream, (s) => s, false);
    await sink.write(Array.from({ length: 9000 }, () => line));
    expect(bytes).toBe(9000 * 60_001);
    expect(largest).toBeLessThan(2 * 1024 * 1024);
  });
});
