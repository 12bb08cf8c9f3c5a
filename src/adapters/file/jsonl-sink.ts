import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { MaybePromise } from '../../framework/ports.js';

/**
 * Writes records as JSON lines to a byte stream, a batch per write. When the stream's buffer is
 * full, `write` resolves only once it drains, so a slow consumer slows the run down instead of
 * filling memory.
 */
export class JsonlSink<T> {
  readonly #out: Writable;
  readonly #encode: (record: T) => string;
  readonly #owned: boolean;
  #closed = false;
  #failure: Error | undefined;

  /**
   * @param out - the stream to write to
   * @param encode - one record's JSON line, without the newline
   * @param owned - whether `close()` ends the stream (a file) or leaves it open (stdout)
   */
  constructor(out: Writable, encode: (record: T) => string, owned: boolean) {
    this.#out = out;
    this.#encode = encode;
    this.#owned = owned;
    // A stream error (a missing directory, a closed pipe) surfaces on the next write or close.
    out.on('error', (error) => {
      this.#failure ??= error;
    });
  }

  /** A sink writing a new file at `path` (replacing it). */
  static toFile<T>(path: string, encode: (record: T) => string): JsonlSink<T> {
    return new JsonlSink(createWriteStream(path), encode, true);
  }

  write(records: readonly T[]): MaybePromise<void> {
    if (this.#failure) throw this.#failure;
    if (records.length === 0 || this.#closed) return;
    let chunk = '';
    for (const record of records) chunk += this.#encode(record) + '\n';
    if (!this.#out.write(chunk)) return once(this.#out, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned && !this.#failure) {
      this.#out.end();
      await once(this.#out, 'finish');
    }
    if (this.#failure) throw this.#failure;
  }
}
