import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FileEventSource } from '../../src/adapters/file/file-event-source.js';
import type { InputRecord } from '../../src/framework/model/input-record.js';
import type { InputBatch } from '../../src/framework/ports/event-source.js';

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'live-crew-src-')), name);
  writeFileSync(path, text);
  return path;
}

async function records(source: FileEventSource) {
  const out: Array<{ where: string; text?: string; value?: unknown }> = [];
  for await (const batch of source.batches()) {
    for (const r of batch.records) out.push({ where: batch.origin.locate(r.position), ...(r.text !== undefined ? { text: r.text } : { value: r.value }) });
  }
  return out;
}

describe('FileEventSource', () => {
  it('streams JSONL as lines named file:line, skipping blank lines and CRLF endings', async () => {
    const path = file('events.jsonl', '{"a":1}\r\n\n   \n{"a":2}\n{"a":3}');
    expect(await records(new FileEventSource(path))).toEqual([
      { where: `${path}:1`, text: '{"a":1}' },
      { where: `${path}:4`, text: '{"a":2}' },
      { where: `${path}:5`, text: '{"a":3}' },
    ]);
  });

  it("passes malformed lines on as text: judging them is the decoder's job", async () => {
    const path = file('events.jsonl', '{"a":1}\nnot json\n');
    expect((await records(new FileEventSource(path))).map((r) => r.text)).toEqual(['{"a":1}', 'not json']);
  });

  it('detects a JSON array by its first character, naming elements file[index]', async () => {
    const path = file('events.json', '\n  [{"a":1}, {"a":2}]\n');
    expect(await records(new FileEventSource(path))).toEqual([
      { where: `${path}[0]`, value: { a: 1 } },
      { where: `${path}[1]`, value: { a: 2 } },
    ]);
  });

  it('batches records, never more than batchSize, losing none', async () => {
    const path = file('events.jsonl', Array.from({ length: 25 }, (_, i) => `{"i":${i}}`).join('\n'));
    const sizes: number[] = [];
    for await (const batch of new FileEventSource(path, { batchSize: 10 }).batches()) sizes.push(batch.records.length);
    expect(sizes.every((n) => n <= 10)).toBe(true);
    expect(sizes.slice(0, 2)).toEqual([10, 10]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
  });

  it('reads stdin for "-", naming lines stdin:N', async () => {
    const stdin = Readable.from(['{"a":', '1}\n{"a":2}\n']);
    expect(await records(new FileEventSource('-', { stdin }))).toEqual([
      { where: 'stdin:1', text: '{"a":1}' },
      { where: 'stdin:2', text: '{"a":2}' },
    ]);
  });

  it('yields lines as they arrive, before the input ends', async () => {
    const stdin = new PassThrough();
    const iterator = new FileEventSource('-', { stdin }).batches()[Symbol.asyncIterator]();
    stdin.write('{"a":1}\n');
    const first = (await iterator.next()).value as InputBatch;
    expect(first.records.map((r) => r.text)).toEqual(['{"a":1}']);
    stdin.end('{"a":2}\n');
    expect(((await iterator.next()).value as InputBatch).records.map((r) => r.text)).toEqual(['{"a":2}']);
    expect((await iterator.next()).done).toBe(true);
  });

  it('fails clearly for a file that does not exist', async () => {
    await expect(records(new FileEventSource('/nonexistent/events.jsonl'))).rejects.toThrow(/cannot read events from \/nonexistent\/events.jsonl: ENOENT/);
  });

  it('fails clearly for a JSON array that does not parse', async () => {
    const path = file('events.json', '[{"a":1}, {"a":');
    await expect(records(new FileEventSource(path))).rejects.toThrow(/events.json is read as one JSON array \(a .json file, or --format json\) but is not one: .*pass --format jsonl/);
  });

  it('reads a .jsonl file as lines even when its first line is a JSON array (it is then one invalid record)', async () => {
    const path = file('events.jsonl', '[1,2,3]\n{"a":1}\n');
    expect(await records(new FileEventSource(path))).toEqual([
      { where: `${path}:1`, text: '[1,2,3]' },
      { where: `${path}:2`, text: '{"a":1}' },
    ]);
  });

  it('follows --format over the extension, and reads stdin as JSONL', async () => {
    const path = file('events.txt', '[{"a":1}]');
    expect(await records(new FileEventSource(path, { format: 'json' }))).toEqual([{ where: `${path}[0]`, value: { a: 1 } }]);
    const jsonNamed = file('events.json', '{"a":1}\n{"a":2}\n');
    expect((await records(new FileEventSource(jsonNamed, { format: 'jsonl' }))).map((r) => r.text)).toEqual(['{"a":1}', '{"a":2}']);
    expect((await records(new FileEventSource('-', { stdin: Readable.from(['[{"a":1}]\n']) })))[0]).toEqual({ where: 'stdin:1', text: '[{"a":1}]' });
  });

  it('drops a UTF-8 byte order mark, in JSONL and in a JSON array', async () => {
    expect(await records(new FileEventSource(file('bom.jsonl', '\uFEFF{"a":1}\n')))).toEqual([{ where: expect.stringMatching(/bom.jsonl:1$/), text: '{"a":1}' }]);
    expect(await records(new FileEventSource(file('bom.json', '\uFEFF[{"a":1}]')))).toEqual([{ where: expect.stringMatching(/bom.json\[0\]$/), value: { a: 1 } }]);
  });

  it('skips a line over lineMaxBytes as it streams, reporting it with its start and size, and goes on with the next line', async () => {
    // 64 MiB in 1 MiB chunks, one line: never held whole.
    const chunk = 'x'.repeat(1 << 20);
    async function* huge() {
      yield '{"a":1}\n{"big":"';
      for (let i = 0; i < 64; i++) yield chunk;
      yield '"}\n{"a":2}\n';
    }
    const source = new FileEventSource('-', { stdin: Readable.from(huge()), lineMaxBytes: 1000 });
    const out: InputRecord[] = [];
    for await (const batch of source.batches()) out.push(...batch.records);
    expect(out.map((r) => [r.position, r.refused === undefined ? r.text : r.text!.length, r.refused])).toEqual([
      [1, '{"a":1}', undefined],
      [2, 1000, `record is ${64 * (1 << 20) + 10} bytes, over line_max_bytes 1000; it was skipped (raise line_max_bytes or payload_max_bytes to accept it)`],
      [3, '{"a":2}', undefined],
    ]);
  });

  it('counts a long line in UTF-8 bytes, not characters', async () => {
    const path = file('wide.jsonl', `{"s":"${'é'.repeat(400)}"}\n{"s":"${'e'.repeat(400)}"}\n`);
    const out: InputRecord[] = [];
    for await (const batch of new FileEventSource(path, { lineMaxBytes: 500 }).batches()) out.push(...batch.records);
    expect(out.map((r) => [r.position, r.refused?.match(/record is (\d+) bytes/)?.[1]])).toEqual([
      [1, '808'],
      [2, undefined],
    ]);
  });

  it('ends the iteration when closed', async () => {
    const stdin = new PassThrough();
    const source = new FileEventSource('-', { stdin });
    const reading = records(source);
    stdin.write('{"a":1}\n');
    await new Promise((resolve) => setTimeout(resolve, 10));
    await source.close();
    stdin.end('{"a":2}\n');
    expect((await reading).length).toBeLessThanOrEqual(1);
  });
});
