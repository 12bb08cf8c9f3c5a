import { encodeContextRecord, type ContextRecord } from '../../framework/model/context-record.js';
import type { ContextSink } from '../../framework/ports/sinks.js';
import { liveSubject } from './jetstream-streams.js';
import type { NatsLink } from './jetstream-transport.js';

/**
 * Publishes each merged slice's `__context` record on `live.<stream>.ctx` (core NATS: a viewer
 * joining late reads the latest snapshot from the stream's KV bucket, then follows the subject).
 * It shares the app's NATS link, taken at the first record and given back at close.
 */
export class NatsContextBroadcast implements ContextSink {
  readonly #link: NatsLink;
  #taken: ReturnType<NatsLink['acquire']> | undefined;

  constructor(link: NatsLink) {
    this.#link = link;
  }

  async write(records: readonly ContextRecord[]): Promise<void> {
    const { nc } = await (this.#taken ??= this.#link.acquire());
    for (const record of records) nc.publish(liveSubject(record.stream_id, 'ctx'), encodeContextRecord(record));
  }

  async close(): Promise<void> {
    if (this.#taken === undefined) return;
    this.#taken = undefined;
    await this.#link.release();
  }
}
