import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { InputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { EventSource, InputBatch, InputOrigin, InputRecord } from '../../framework/ports.js';

/** Options of `FileEventSource`. */
export interface FileEventSourceOptions {
  /** Records per batch (default 1024). */
  batchSize?: number;
  /** What `-` reads; default `process.stdin`. */
  stdin?: Readable;
}

/**
 * Reads events from a file, or from stdin for `-`. The format is detected from the content: a
 * JSON array (`[` first) is parsed whole; anything else is JSONL, streamed line by line in
 * batches, so memory stays flat however long the file. Blank lines are skipped; every other
 * line is a record, named `file:line` in errors.
 */
export class FileEventSource implements EventSource {
  readonly #path: string;
  readonly #batchSize: number;
  readonly #stdin: Readable | undefined;
  #stream: Readable | undefined;
  #closed = false;

  constructor(path: string, options: FileEventSourceOptions = {}) {
    this.#path = path;
    this.#batchSize = options.batchSize ?? 1024;
    this.#stdin = options.stdin;
  }

  async *batches(): AsyncGenerator<InputBatch> {
    if (this.#closed) return;
    const name = this.#path === '-' ? 'stdin' : this.#path;
    const stream = this.#path === '-' ? (this.#stdin ?? process.stdin) : createReadStream(this.#path, { highWaterMark: 1 << 20 });
    stream.setEncoding('utf8');
    this.#stream = stream;
    try {
      yield* this.#read(stream, name);
    } catch (error) {
      if (this.#closed) return;
      if (error instanceof InputError) throw error;
      throw new InputError(messages.inputUnreadable(name, (error as Error).message), { cause: error });
    } finally {
      this.#stream = undefined;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Destroying the stream ends a pending read at once, even on a pipe that never ends.
    this.#stream?.destroy();
  }

  async *#read(stream: Readable, name: string): AsyncGenerator<InputBatch> {
    const lines: InputOrigin = { name, locate: (line) => `${name}:${line}` };
    let format: 'jsonl' | 'array' | undefined;
    let arrayText = '';
    let partial = '';
    let lineNo = 0;
    let records: InputRecord[] = [];
    for await (const chunk of stream as AsyncIterable<string>) {
      if (this.#closed) return;
      format ??= detectFormat(chunk);
      if (format === undefined) {
        partial += chunk;
        continue;
      }
      if (format === 'array') {
        arrayText += partial + chunk;
        partial = '';
        continue;
      }
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lineNo++;
        pushLine(records, line, lineNo);
        if (records.length >= this.#batchSize) {
          yield { origin: lines, records };
          records = [];
        }
      }
      // What a chunk completed goes out now: live input (a pipe, a tail) must not wait for a full batch.
      if (records.length > 0) {
        yield { origin: lines, records };
        records = [];
      }
    }
    if (format === 'array') {
      yield* this.#arrayBatches(arrayText + partial, name);
      return;
    }
    if (partial.length > 0) pushLine(records, partial, lineNo + 1);
    if (records.length > 0) yield { origin: lines, records };
  }

  *#arrayBatches(text: string, name: string): Generator<InputBatch> {
    let values: unknown;
    try {
      values = JSON.parse(text);
    } catch (error) {
      throw new InputError(messages.inputArrayInvalid(name, (error as Error).message), { cause: error });
    }
    if (!Array.isArray(values)) throw new InputError(messages.inputArrayInvalid(name, 'the top-level value is not an array'));
    const origin: InputOrigin = { name, locate: (index) => `${name}[${index}]` };
    for (let start = 0; start < values.length; start += this.#batchSize) {
      const records = values.slice(start, start + this.#batchSize).map((value, i) => ({ value, position: start + i }));
      yield { origin, records };
    }
  }
}

/** `array` or `jsonl` from the first non-blank character, undefined while there is none yet. */
function detectFormat(chunk: string): 'jsonl' | 'array' | undefined {
  const first = chunk.trimStart()[0];
  if (first === undefined) return undefined;
  return first === '[' ? 'array' : 'jsonl';
}

function pushLine(records: InputRecord[], line: string, position: number): void {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim().length > 0) records.push({ text, position });
}
