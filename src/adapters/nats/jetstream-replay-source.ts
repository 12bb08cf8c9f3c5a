import type { JetStreamClient } from '@nats-io/jetstream';
import type { EventSource, InputBatch } from '../../framework/ports/event-source.js';
import { endsStream } from './end-of-stream.js';
import { LIVE_STREAMS, liveSubject } from './jetstream-streams.js';
import { readSubject } from './jetstream-reading.js';
import { toBatch } from './jetstream-transport.js';

/**
 * The events of one stream, read from JetStream in order from a sequence on (the first, or the
 * one after a checkpoint): the distributed scheduler's input. Going over the stream from there
 * rebuilds the slicing state exactly, so a successor scheduler decides what its predecessor
 * decided. Ends at the end-of-stream marker.
 */
export class JetStreamReplaySource implements EventSource {
  readonly #js: JetStreamClient;
  readonly #streamId: string;
  readonly #fromSeq: number;
  readonly #stop = new AbortController();

  constructor(js: JetStreamClient, streamId: string, fromSeq = 1) {
    this.#js = js;
    this.#streamId = streamId;
    this.#fromSeq = fromSeq;
  }

  async *batches(): AsyncGenerator<InputBatch> {
    const reading = { stream: LIVE_STREAMS.events.name, subject: liveSubject(this.#streamId, 'events'), fromSeq: this.#fromSeq, signal: this.#stop.signal };
    for await (const messages of readSubject(this.#js, reading)) {
      const end = messages.findIndex(endsStream);
      const events = end < 0 ? messages : messages.slice(0, end);
      if (events.length > 0) yield toBatch(events);
      if (end >= 0) return;
    }
  }

  async close(): Promise<void> {
    this.#stop.abort();
  }
}
