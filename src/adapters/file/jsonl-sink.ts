import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { OutputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { MaybePromise } from '../../framework/ports/maybe-promise.js';

/** What a sink writes and under which config key, for messages: `actions` to `output`. */
export interface SinkTarget {
  readonly what: string;
  readonly key: string;
}

/**
 * The most characters handed to the stream in one write. A batch is written in chunks of about
 * this size, each waiting for the stream to drain, so however much a batch holds, no string
 * grows past what V8 allows and memory stays bounded.
 */
const CHUNK_CHARS = 1 << 20;

/**
 * Writes records as JSON lines to a byte stream, a batch per write. When the stream's buffer is
 * full, `write` resolves only once it drains, so a slow consumer slows the run down instead of
 * filling memory.
 */
export class JsonlSink<T> {
  readonly #out: Writable;
  readonly #encode: (record: T) => string;
  readonly #owned: boolean;
  readonly #name: string;
  readonly #target: SinkTarget;
  #closed = false;
  #failure: Error | undefined;

  /**
   * @param out - the stream to write to
   * @param encode - one record's JSON line, without the newline
   * @param owned - whether `close()` ends the stream (a file) or leaves it open (stdout)
   * @param where - the stream's name and what it holds, for messages
   */
  constructor(
    out: Writable,
    encode: (record: T) => string,
    owned: boolean,
    where: { readonly name: string; readonly target: SinkTarget } = { name: 'output', target: { what: 'records', key: 'output' } },
  ) {
    this.#out = out;
    this.#encode = encode;
    this.#owned = owned;
    this.#name = where.name;
    this.#target = where.target;
    // A stream error (a closed pipe, a full disk) surfaces on the next write or close.
    out.on('error', (error) => {
      this.#failure ??= error;
    });
  }

  /**
   * A sink writing a new file at `path` (replacing it).
   *
   * @throws OutputError when the path is a folder or its folder does not exist
   */
  static toFile<T>(path: string, encode: (record: T) => string, target: SinkTarget): JsonlSink<T> {
    const problem = isFolder(path) ? messages.outputIsFolder() : isFolder(dirname(path)) ? undefined : messages.outputFolderMissing(dirname(path));
    if (problem !== undefined) throw new OutputError(messages.outputNotWritable(target.what, target.key, path, problem));
    return new JsonlSink(createWriteStream(path), encode, true, { name: path, target });
  }

  write(records: readonly T[]): MaybePromise<void> {
    this.#throwIfFailed();
    if (records.length === 0 || this.#closed) return;
    return this.#writeFrom(records, 0);
  }

  /** Writes chunk by chunk; waits for a drain when the stream asks to, and goes on from there. */
  #writeFrom(records: readonly T[], from: number): MaybePromise<void> {
    let chunk = '';
    for (let i = from; i < records.length; i++) {
      chunk += `${this.#encode(records[i]!)}\n`;
      if (chunk.length < CHUNK_CHARS) continue;
      const more = this.#out.write(chunk);
      chunk = '';
      if (!more) return this.#drained().then(() => (i + 1 < records.length ? this.#writeFrom(records, i + 1) : undefined));
    }
    if (chunk.length > 0 && !this.#out.write(chunk)) return this.#drained();
  }

  /** Resolves when the stream drains; rejects with the stream's error (a full disk) instead. */
  async #drained(): Promise<void> {
    try {
      await once(this.#out, 'drain');
    } catch (error) {
      this.#failure ??= error as Error;
    }
    this.#throwIfFailed();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned && !this.#failure) {
      this.#out.end();
      await once(this.#out, 'finish').catch((error: Error) => (this.#failure ??= error));
    }
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw new OutputError(messages.outputNotWritable(this.#target.what, this.#target.key, this.#name, this.#failure.message), { cause: this.#failure });
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
