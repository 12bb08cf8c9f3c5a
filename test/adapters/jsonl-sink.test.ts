import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonlSink } from '../../src/adapters/file/jsonl-sink.js';
import { fileErrorSink } from '../../src/adapters/file/file-sinks.js';
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
    expect(lines).toEqual([
      '{"ts":"2024-01-01T00:00:00.000Z","kind":"__error","stream_id":"m1","payload":{"reason":"late_event","message":"late","slice":3,"source":"x:1"}}',
      lines[0],
      '',
    ]);
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

  it('reports a file it cannot create on write, not as a crash', async () => {
    const sink = fileErrorSink('/nonexistent-dir/errors.jsonl');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(() => sink.write([record])).toThrow(/ENOENT/);
    await expect(sink.close()).rejects.toThrow(/ENOENT/);
  });
});
