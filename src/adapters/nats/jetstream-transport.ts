import { createHash } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { connectNats } from './nats-connect.js';
import { encodeErrorRecord, type ErrorRecord } from '../../framework/model/error-record.js';
import type { InputOrigin } from '../../framework/model/input-record.js';
import type { EventSource, InputBatch } from '../../framework/ports/event-source.js';
import type { EmittedAction } from '../../framework/ports/sinks.js';
import { ensureLiveStreams, LIVE_STREAMS, liveSubject, streamOfSubject, type LiveRetention } from './jetstream-streams.js';
import { batchMessages } from './jetstream-reading.js';
import { endsStream } from './end-of-stream.js';
import { JetStreamPublisher, type OutgoingMessage } from './jetstream-publishing.js';

/** What a `NatsLink` shares: the connection, its JetStream client, and its publisher. */
export interface NatsLinkParts {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly publisher: JetStreamPublisher;
}

/** A NATS connection made on first use and shared by the transport's source and sinks. */
export class NatsLink {
  readonly #options: NodeConnectionOptions;
  readonly #retention: LiveRetention;
  #ready: Promise<NatsLinkParts> | undefined;
  #users = 0;

  /**
   * @param options - how to connect (`natsConnectOptions(config)`)
   * @param retention - the retention of the streams a distributed run reads again (`liveRetention(config)`)
   */
  constructor(options: NodeConnectionOptions, retention: LiveRetention = {}) {
    this.#options = options;
    this.#retention = retention;
  }

  /** The connection, its JetStream client and publisher, streams in place; one user more until `release()`. */
  acquire(): Promise<NatsLinkParts> {
    this.#users++;
    this.#ready ??= connectNats(this.#options).then(async (nc) => {
      try {
        await ensureLiveStreams(nc, this.#retention);
      } catch (error) {
        // Nothing else will close it: the link never became ready.
        await nc.close();
        throw error;
      }
      const js = jetstream(nc);
      return { nc, js, publisher: new JetStreamPublisher(nc, js) };
    });
    return this.#ready;
  }

  /** One user less; the last one drains the connection. */
  async release(): Promise<void> {
    if (--this.#users > 0 || this.#ready === undefined) return;
    const ready = this.#ready;
    this.#ready = undefined;
    await (await ready.catch(() => undefined))?.nc.drain();
  }
}

/** How long an event may stay unacknowledged before the server redelivers it: 1 h, in ns. */
const ACK_WAIT_NS = 3_600_000_000_000;
/** The most events delivered and not yet acknowledged (those of open slices, across streams). */
const MAX_ACK_PENDING = 20_000;

/** Options of `JetStreamEventSource`. */
export interface JetStreamEventSourceOptions {
  /** The durable consumer's name: a restarted app goes on where it left off. Default `live-crew`. */
  durable?: string;
  /** The most messages held unacknowledged in memory: the source's backpressure. Default 1024. */
  maxMessages?: number;
}

/**
 * Consumes `live.*.events` through a durable pull consumer with explicit acks. A batch is
 * acknowledged once the slices holding its events are merged and committed (`InputBatch.ack`),
 * so a process killed mid-slice gets them again; at most `maxMessages` are buffered at once, so
 * a slow app slows the consumer, not memory.
 * Positions are stream sequences: errors name `nats:live.m1.events#42`.
 */
export class JetStreamEventSource implements EventSource {
  readonly #link: NatsLink;
  readonly #durable: string;
  readonly #maxMessages: number;
  #stop: (() => void) | undefined;
  #closed = false;

  constructor(link: NatsLink, options: JetStreamEventSourceOptions = {}) {
    this.#link = link;
    this.#durable = options.durable ?? 'live-crew';
    this.#maxMessages = options.maxMessages ?? 1024;
  }

  async *batches(): AsyncGenerator<InputBatch> {
    if (this.#closed) return;
    const { js } = await this.#link.acquire();
    try {
      const jsm = await js.jetstreamManager();
      // Messages a process took but never acknowledged (it died before their slices were
      // committed) would come back only after ack_wait, behind newer ones. Made again at its ack
      // floor, the consumer delivers them at once and in order; what is already merged the
      // engine skips by its committed position.
      const existing = await jsm.consumers.info(LIVE_STREAMS.events.name, this.#durable).catch(() => undefined);
      if (existing !== undefined) await jsm.consumers.delete(LIVE_STREAMS.events.name, this.#durable);
      await jsm.consumers.add(LIVE_STREAMS.events.name, {
        durable_name: this.#durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.StartSequence,
        // A consumer the server reports without an ack floor (seen once, just after it was made) starts from the first message.
        opt_start_seq: (existing?.ack_floor?.stream_seq ?? 0) + 1,
        filter_subject: liveSubject('*', 'events'),
        // Events stay unacknowledged while their slice is open; a live process acknowledges
        // them, a restarted one takes them again from the ack floor.
        ack_wait: ACK_WAIT_NS,
        max_ack_pending: MAX_ACK_PENDING,
      });
      const consumer = await js.consumers.get(LIVE_STREAMS.events.name, this.#durable);
      const messages = await consumer.consume({ max_messages: this.#maxMessages });
      this.#stop = () => void messages.stop();
      for await (const batch of batchMessages(messages)) {
        // An end-of-stream marker is for a stream's distributed scheduler, not an event.
        const events = batch.filter((message) => !endsStream(message));
        const ack = () => {
          for (const message of batch) message.ack();
        };
        if (events.length > 0) yield { ...toBatch(events), ack };
        else ack();
      }
    } finally {
      await this.#link.release();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop?.();
  }
}

/** Where stored events come from: `nats:live.m1.events#42`, the subject each came in on. */
const EVENTS_ORIGIN: InputOrigin = {
  name: `nats:${liveSubject('*', 'events')}`,
  durable: true,
  locate: (seq, streamId) => `nats:${streamId === undefined ? liveSubject('*', 'events') : liveSubject(streamId, 'events')}#${seq}`,
};

/**
 * Stored messages as an input batch: positions are stream sequences, and each record is bound
 * to the stream its subject names (an event naming another stream is refused).
 */
export function toBatch(messages: readonly JsMsg[]): Omit<InputBatch, 'ack'> {
  return { origin: EVENTS_ORIGIN, records: messages.map((m) => ({ text: m.string(), position: m.seq, stream: streamOfSubject(m.subject) })) };
}

/**
 * Publishes records to JetStream on one connection; `write` resolves when the server has stored
 * them all, in order (the backpressure), retrying across a server restart. Every record has a
 * deterministic `Nats-Msg-Id` (an action its id; an error record a digest of its line), so a
 * retry or a re-run stores each once.
 */
export class JetStreamSink<T> {
  readonly #link: NatsLink;
  readonly #publisher: Promise<JetStreamPublisher>;
  readonly #toMessage: (record: T) => OutgoingMessage;

  constructor(link: NatsLink, toMessage: (record: T) => OutgoingMessage) {
    this.#link = link;
    this.#toMessage = toMessage;
    this.#publisher = link.acquire().then(({ publisher }) => publisher);
    this.#publisher.catch(() => undefined);
  }

  /** Actions to `live.<stream>.actions`, de-duplicated by id. */
  static forActions(link: NatsLink): JetStreamSink<EmittedAction> {
    return new JetStreamSink(link, ({ action, json, id }) => ({ subject: liveSubject(action.stream_id, 'actions'), data: json, msgID: id }));
  }

  /** Error records to `live.<stream>.errors`, de-duplicated by their content. */
  static forErrors(link: NatsLink): JetStreamSink<ErrorRecord> {
    return new JetStreamSink(link, (record) => {
      const data = encodeErrorRecord(record);
      return { subject: liveSubject(record.stream_id, 'errors'), data, msgID: `${record.stream_id}:error:${createHash('sha256').update(data).digest('base64url')}` };
    });
  }

  async write(records: readonly T[]): Promise<void> {
    await (await this.#publisher).publishInOrder(records.map(this.#toMessage));
  }

  /** The message id a record is published with. */
  idOf(record: T): string | undefined {
    return this.#toMessage(record).msgID;
  }

  /** This sink for output of which what `stored` names is stored already: that is not published again. */
  unless(stored: ReadonlySet<string>): { write(records: readonly T[]): Promise<void>; close(): Promise<void> } {
    return {
      write: (records) => this.write(records.filter((record) => !stored.has(this.idOf(record) ?? ''))),
      // The sink is shared: its owner closes it.
      close: async () => undefined,
    };
  }

  close(): Promise<void> {
    return this.#link.release();
  }
}
