import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { inputLimits } from '../../framework/config/limits.js';
import { CONFIG_DEFAULTS } from '../../framework/config/config-schema.js';
import { defaultLineMaxBytes } from '../../framework/model/json.js';
import { InputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { InputOrigin, InputRecord } from '../../framework/model/input-record.js';
import type { EventSource, InputBatch } from '../../framework/ports/event-source.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** How an input file is read: one JSON array, or JSON lines. `auto` goes by the extension. */
export type InputFormat = 'auto' | 'jsonl' | 'json';

/** Options of `FileEventSource`. */
export interface FileEventSourceOptions {
  /** Records per batch (default 1024). */
  batchSize?: number;
  /** What `-` reads; default `process.stdin`. */
  stdin?: Readable;
  /** `auto` (default): a `.json` file is one JSON array; any other file, and stdin, is JSONL. */
  format?: InputFormat;
  /** The longest line in bytes (default 80 KiB); a longer one is skipped while it streams, and reported. */
  lineMaxBytes?: number;
}

/** The largest `.json` array read (it is parsed whole); JSONL has no such limit. */
export const JSON_ARRAY_MAX_BYTES = 64 * 1024 * 1024;
/** How much of a skipped line its error record shows. */
const SKIPPED_HEAD_CHARS = 1000;
const BOM = '\uFEFF';

/**
 * Reads events from a file, or from stdin for `-`. JSONL is streamed line by line in batches, so
 * memory stays flat however long the file; a line over `lineMaxBytes` is skipped as it streams
 * (constant memory, linear time) and passed on as a refused record. A `.json` file is one JSON
 * array, parsed whole. Blank lines are skipped, a UTF-8 byte order mark is dropped; every other
 * line is a record, named `file:line` in errors.
 */
export class FileEventSource implements EventSource {
  readonly #path: string;
  readonly #batchSize: number;
  readonly #stdin: Readable | undefined;
  readonly #format: 'jsonl' | 'json';
  readonly #lineMaxBytes: number;
  #stream: Readable | undefined;
  #closed = false;

  constructor(path: string, options: FileEventSourceOptions = {}) {
    this.#path = path;
    this.#batchSize = options.batchSize ?? 1024;
    this.#stdin = options.stdin;
    const format = options.format ?? 'auto';
    this.#format = format !== 'auto' ? format : path !== '-' && extname(path).toLowerCase() === '.json' ? 'json' : 'jsonl';
    this.#lineMaxBytes = options.lineMaxBytes ?? defaultLineMaxBytes(CONFIG_DEFAULTS.payload_max_bytes);
  }

  async *batches(): AsyncGenerator<InputBatch> {
    if (this.#closed) return;
    const name = this.#path === '-' ? 'stdin' : this.#path;
    const stream = this.#path === '-' ? (this.#stdin ?? process.stdin) : createReadStream(this.#path, { highWaterMark: 1 << 20 });
    stream.setEncoding('utf8');
    this.#stream = stream;
    try {
      yield* this.#format === 'json' ? this.#readArray(stream, name) : this.#readLines(stream, name);
    } catch (error) {
      if (this.#closed) return;
      if (error instanceof InputError) throw error;
      throw new InputError(messages.inputUnreadable(name, describeThrown(error)), { cause: error });
    } finally {
      this.#stream = undefined;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Destroying the stream ends a pending read at once, even on a pipe that never ends.
    this.#stream?.destroy();
  }

  async *#readLines(stream: Readable, name: string): AsyncGenerator<InputBatch> {
    const origin: InputOrigin = { name, locate: (line) => `${name}:${line}` };
    const lines = new LineSplitter(this.#lineMaxBytes);
    let records: InputRecord[] = [];
    for await (const chunk of stream as AsyncIterable<string>) {
      if (this.#closed) return;
      for (const record of lines.push(chunk)) {
        records.push(record);
        if (records.length >= this.#batchSize) {
          yield { origin, records };
          records = [];
        }
      }
      // What a chunk completed goes out now: live input (a pipe, a tail) must not wait for a full batch.
      if (records.length > 0) {
        yield { origin, records };
        records = [];
      }
    }
    const last = lines.end();
    if (last !== undefined) yield { origin, records: [last] };
  }

  async *#readArray(stream: Readable, name: string): AsyncGenerator<InputBatch> {
    const parts: string[] = [];
    let chars = 0;
    for await (const chunk of stream as AsyncIterable<string>) {
      if (this.#closed) return;
      chars += chunk.length;
      if (chars > JSON_ARRAY_MAX_BYTES) throw new InputError(messages.inputArrayTooLarge(name, JSON_ARRAY_MAX_BYTES));
      parts.push(chunk);
    }
    let values: unknown;
    try {
      values = JSON.parse(stripBom(parts.join('')));
    } catch (error) {
      throw new InputError(messages.inputArrayInvalid(name, describeThrown(error)), { cause: error });
    }
    if (!Array.isArray(values)) throw new InputError(messages.inputArrayInvalid(name, 'the top-level value is not an array'));
    const origin: InputOrigin = { name, locate: (index) => `${name}[${index}]` };
    for (let start = 0; start < values.length; start += this.#batchSize) {
      const records = values.slice(start, start + this.#batchSize).map((value, i) => ({ value, position: start + i }));
      yield { origin, records };
    }
  }
}

/** The source a configuration names: `path` read as `input_format` says, lines bounded by `line_max_bytes`. */
export function fileEventSource(path: string, config: LiveCrewConfig): FileEventSource {
  return new FileEventSource(path, { format: config.input_format, lineMaxBytes: inputLimits(config).lineMaxBytes });
}

/**
 * Cuts text chunks into line records. A line that spans chunks is kept as pieces, joined once
 * when it ends, so time stays linear in its length; once it is over `maxBytes` only its start is
 * kept and the rest is counted and dropped, so memory stays bounded whatever the line's length.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  /** Pieces of the line in progress, from earlier chunks. */
  #pieces: string[] = [];
  #pieceBytes = 0;
  /** The start of a line over the limit, and its length so far; undefined while it fits. */
  #skipping: { head: string; bytes: number } | undefined;
  #lineNo = 0;
  #first = true;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The records the lines completed in `chunk` make. */
  push(chunk: string): InputRecord[] {
    if (this.#first && chunk.length > 0) {
      chunk = stripBom(chunk);
      this.#first = false;
    }
    const out: InputRecord[] = [];
    let from = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', from);
      if (newline === -1) {
        if (from < chunk.length) this.#carry(chunk.slice(from));
        return out;
      }
      this.#lineNo++;
      const record = this.#pieces.length === 0 && this.#skipping === undefined ? this.#whole(chunk.slice(from, newline)) : this.#joined(chunk.slice(from, newline));
      if (record !== undefined) out.push(record);
      from = newline + 1;
    }
  }

  /** The last line, when the input does not end with a newline. */
  end(): InputRecord | undefined {
    if (this.#pieces.length === 0 && this.#skipping === undefined) return undefined;
    this.#lineNo++;
    return this.#joined('');
  }

  /** Part of a line whose end is in a later chunk. */
  #carry(piece: string): void {
    if (this.#skipping !== undefined) {
      this.#skipping.bytes += Buffer.byteLength(piece);
      return;
    }
    this.#pieces.push(piece);
    this.#pieceBytes += piece.length * 3 > this.#maxBytes ? Buffer.byteLength(piece) : piece.length;
    if (this.#pieceBytes > this.#maxBytes) {
      const text = this.#pieces.join('');
      this.#skipping = { head: text.slice(0, SKIPPED_HEAD_CHARS), bytes: Buffer.byteLength(text) };
      this.#pieces = [];
      this.#pieceBytes = 0;
    }
  }

  /** A line that began in an earlier chunk ends with `tail`. */
  #joined(tail: string): InputRecord | undefined {
    const skipping = this.#skipping;
    if (skipping !== undefined) {
      this.#skipping = undefined;
      return this.#refused(skipping.head, skipping.bytes + Buffer.byteLength(tail));
    }
    this.#pieces.push(tail);
    const line = this.#pieces.join('');
    this.#pieces = [];
    this.#pieceBytes = 0;
    return this.#whole(line);
  }

  /** A complete line: a record, nothing (blank), or a refusal (too long). */
  #whole(line: string): InputRecord | undefined {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length * 3 > this.#maxBytes) {
      const bytes = Buffer.byteLength(text);
      if (bytes > this.#maxBytes) return this.#refused(text.slice(0, SKIPPED_HEAD_CHARS), bytes);
    }
    return text.trim().length > 0 ? { text, position: this.#lineNo } : undefined;
  }

  #refused(head: string, bytes: number): InputRecord {
    return { text: head, position: this.#lineNo, refused: messages.lineTooLong(bytes, this.#maxBytes) };
  }
}

function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}
