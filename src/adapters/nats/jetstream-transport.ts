import { AckPolicy, DeliverPolicy, jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { encodeErrorRecord, type ErrorRecord } from '../../framework/model/error-record.js';
import type { EmittedAction, EventSource, InputBatch, InputOrigin } from '../../framework/ports.js';
import { ensureLiveStreams, LIVE_STREAMS, liveSubject } from './jetstream-streams.js';

/** A NATS connection made on first use and shared by the transport's source and sinks. */
export class NatsLink {
  readonly #options: NodeConnectionOptions;
  #ready: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  #users = 0;

  /** @param options - how to connect (`natsConnectOptions(config)`) */
  constructor(options: NodeConnectionOptions) {
    this.#options = options;
  }

  /** The connection and its JetStream client, streams in place; one user more until `release()`. */
  acquire(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.#users++;
    this.#ready ??= connect(this.#options).then(async (nc) => {
      await ensureLiveStreams(nc);
      return { nc, js: jetstream(nc) };
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

/** The most messages handed over as one batch. */
const MAX_BATCH = 256;
/** The longest a message waits for others to join its batch, in ms. */
const HAND_OVER_MS = 5;

/** Resolves to undefined after `ms` (at once for ms <= 0). */
function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), Math.max(0, ms)));
}

/** Options of `JetStreamEventSource`. */
export interface JetStreamEventSourceOptions {
  /** The durable consumer's name: a restarted app goes on where it left off. Default `live-crew`. */
  durable?: string;
  /** The most messages held unacknowledged in memory: the source's backpressure. Default 1024. */
  maxMessages?: number;
}

/**
 * Consumes `live.*.events` through a durable pull consumer with explicit acks. Messages are
 * acknowledged when the pipeline has flushed what their batch produced (`InputBatch.ack`), and
 * at most `maxMessages` are held at once, so a slow app slows the consumer, not memory.
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
      await jsm.consumers.add(LIVE_STREAMS.events.name, {
        durable_name: this.#durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: LIVE_STREAMS.events.subject,
      });
      const consumer = await js.consumers.get(LIVE_STREAMS.events.name, this.#durable);
      const messages = await consumer.consume({ max_messages: this.#maxMessages });
      this.#stop = () => void messages.stop();
      const incoming = messages[Symbol.asyncIterator]();
      let held: JsMsg[] = [];
      let next = incoming.next();
      let handOverBy = 0;
      for (;;) {
        // A batch goes out when nothing more is buffered, when it is full (well below the
        // server's max_ack_pending, 1000 by default, which would stop delivery), or at the
        // latest HAND_OVER_MS after its first message: latency never waits for more traffic.
        const arrived = held.length === 0 ? await next : await Promise.race([next, sleep(handOverBy - Date.now())]);
        if (arrived !== undefined) {
          if (arrived.done) break;
          if (held.length === 0) handOverBy = Date.now() + HAND_OVER_MS;
          held.push(arrived.value);
          next = incoming.next();
          if (messages.getPending() > 0 && held.length < MAX_BATCH && Date.now() < handOverBy) continue;
        }
        const batch = held;
        held = [];
        yield { ...toBatch(batch), ack: () => batch.forEach((m) => m.ack()) };
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

function toBatch(messages: readonly JsMsg[]): Omit<InputBatch, 'ack'> {
  const subject = messages[0]!.subject;
  const origin: InputOrigin = { name: `nats:${subject}`, locate: (seq) => `nats:${subject}#${seq}` };
  return { origin, records: messages.map((m) => ({ text: m.string(), position: m.seq })) };
}

/** What a record becomes on the wire. */
interface OutgoingMessage {
  readonly subject: string;
  readonly data: string;
  /** A deterministic id for JetStream's de-duplication, when the record has one. */
  readonly msgID?: string;
}

/**
 * Publishes records to JetStream in order on one connection; `write` resolves when the server
 * has stored them all (the backpressure). Actions carry their id as `Nats-Msg-Id`, so a re-run
 * stores each once.
 */
export class JetStreamSink<T> {
  readonly #link: NatsLink;
  readonly #js: Promise<JetStreamClient>;
  readonly #toMessage: (record: T) => OutgoingMessage;

  constructor(link: NatsLink, toMessage: (record: T) => OutgoingMessage) {
    this.#link = link;
    this.#toMessage = toMessage;
    this.#js = link.acquire().then(({ js }) => js);
    this.#js.catch(() => undefined);
  }

  /** Actions to `live.<stream>.actions`, de-duplicated by id. */
  static forActions(link: NatsLink): JetStreamSink<EmittedAction> {
    return new JetStreamSink(link, ({ action, json, id }) => ({ subject: liveSubject(action.stream_id, 'actions'), data: json, msgID: id }));
  }

  /** Error records to `live.<stream>.errors`. */
  static forErrors(link: NatsLink): JetStreamSink<ErrorRecord> {
    return new JetStreamSink(link, (record) => ({ subject: liveSubject(record.stream_id, 'errors'), data: encodeErrorRecord(record) }));
  }

  async write(records: readonly T[]): Promise<void> {
    const js = await this.#js;
    await Promise.all(
      records.map((record) => {
        const { subject, data, msgID } = this.#toMessage(record);
        return js.publish(subject, data, msgID === undefined ? undefined : { msgID });
      }),
    );
  }

  close(): Promise<void> {
    return this.#link.release();
  }
}
