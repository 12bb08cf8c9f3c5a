import { AckPolicy, DeliverPolicy, PubHeaders, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { nuid } from '@nats-io/transport-node';

/** The most messages handed over as one batch. */
const MAX_BATCH = 256;
/** The longest a message waits for others to join its batch, in ms. */
const HAND_OVER_MS = 1;
/** How long the server keeps a reader's consumer after the reader is gone: 30 s, in ns. */
const INACTIVE_THRESHOLD_NS = 30_000_000_000;
/** The pause before a reader whose consumer was lost (a server restart) makes a new one, in ms. */
const RECREATE_PAUSE_MS = 250;

/**
 * A reader consumer's name. Named consumers are made through the API subject that carries their
 * filter (`$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`), so a NATS user can be allowed to
 * read only its own subjects (`live-crew acl`).
 */
export function readerName(): string {
  return `lc_${nuid.next()}`;
}

/** Resolves to undefined after `ms` (at once for ms <= 0). */
export function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), Math.max(0, ms)));
}

/**
 * Groups delivered messages into batches: a batch goes out when nothing more is buffered, when
 * it is full (well below the server's max_ack_pending, 1000 by default, which would stop
 * delivery), or at the latest HAND_OVER_MS after its first message: latency never waits for more
 * traffic. Ends when the messages end.
 */
export async function* batchMessages(messages: ConsumerMessages): AsyncGenerator<JsMsg[]> {
  const incoming = messages[Symbol.asyncIterator]();
  // The next message is asked for ahead of time; if the consumer fails (a server restart) while
  // a batch is out, the failure must wait for the next await, not crash the process unhandled.
  const ask = () => {
    const asked = incoming.next();
    asked.catch(() => undefined);
    return asked;
  };
  let held: JsMsg[] = [];
  let next = ask();
  let handOverBy = 0;
  for (;;) {
    const arrived = held.length === 0 ? await next : await Promise.race([next, sleep(handOverBy - Date.now())]);
    if (arrived !== undefined) {
      if (arrived.done) break;
      if (held.length === 0) handOverBy = Date.now() + HAND_OVER_MS;
      held.push(arrived.value);
      next = ask();
      if (messages.getPending() > 0 && held.length < MAX_BATCH && Date.now() < handOverBy) continue;
    }
    const batch = held;
    held = [];
    yield batch;
  }
  if (held.length > 0) yield held;
}

/** What `readSubject` reads. */
export interface SubjectReading {
  readonly stream: string;
  /** One subject (wildcards allowed): nats-server 2.9 has no consumers with several. */
  readonly subject: string;
  /** The first stream sequence to deliver (1 = from the start). */
  readonly fromSeq: number;
  /** The most messages buffered at once: the reader's backpressure. */
  readonly maxMessages?: number;
  /** Stops the reading; the generator then ends. */
  readonly signal: AbortSignal;
}

/**
 * Reads a subject of a JetStream stream in order, from a sequence on, in batches, without acks:
 * the reader keeps its own position (in KV), so the server keeps none. An ordered consumer
 * would do this, but needs `filter_subjects` (nats-server 2.10); this is its 2.9 equivalent: an
 * ephemeral consumer, made anew after the last sequence seen when the server loses it (a restart).
 */
export async function* readSubject(js: JetStreamClient, reading: SubjectReading): AsyncGenerator<JsMsg[]> {
  let nextSeq = reading.fromSeq;
  while (!reading.signal.aborted) {
    let messages: ConsumerMessages | undefined;
    const stop = () => void messages?.stop();
    try {
      const jsm = await js.jetstreamManager();
      const { name } = await jsm.consumers.add(reading.stream, {
        name: readerName(),
        filter_subject: reading.subject,
        ack_policy: AckPolicy.None,
        ...(nextSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: nextSeq } : { deliver_policy: DeliverPolicy.All }),
        inactive_threshold: INACTIVE_THRESHOLD_NS,
        mem_storage: true,
      });
      const consumer = await js.consumers.get(reading.stream, name);
      messages = await consumer.consume({ max_messages: reading.maxMessages ?? 1024, abort_on_missing_resource: true });
      reading.signal.addEventListener('abort', stop, { once: true });
      // An abort while the consumer was being made fired before the listener: stop now, or the
      // reading would wait for messages forever.
      if (reading.signal.aborted) stop();
      for await (const batch of batchMessages(messages)) {
        nextSeq = batch[batch.length - 1]!.seq + 1;
        yield batch;
        if (reading.signal.aborted) return;
      }
    } catch (error) {
      if (reading.signal.aborted) return;
      // The consumer or the connection went away (a server restart): read on from nextSeq.
      void error;
    } finally {
      reading.signal.removeEventListener('abort', stop);
      stop();
    }
    await sleep(RECREATE_PAUSE_MS);
  }
}

/** A stored message as `readStoredMessages` gives it. */
export interface StoredMessage {
  readonly subject: string;
  readonly seq: number;
  readonly text: string;
  /** Its message id (`Nats-Msg-Id`); empty when it has none. */
  readonly msgID: string;
  /** When the server stored it. */
  readonly storedAt: Date;
}

/**
 * Every message stored on a subject (wildcards allowed) of a JetStream stream now, in order:
 * only those the server stored from `since` up to `until`, when given; with `headersOnly`,
 * without their bodies.
 */
export async function readStoredMessages(
  js: JetStreamClient,
  stream: string,
  subject: string,
  { since, until, headersOnly = false }: { since?: Date; until?: Date; headersOnly?: boolean } = {},
): Promise<StoredMessage[]> {
  const jsm = await js.jetstreamManager();
  const from = since === undefined ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() };
  const info = await jsm.consumers.add(stream, { name: readerName(), filter_subject: subject, ack_policy: AckPolicy.None, ...from, headers_only: headersOnly, mem_storage: true });
  try {
    const stored: StoredMessage[] = [];
    if (info.num_pending === 0) return stored;
    const messages = await (await js.consumers.get(stream, info.name)).consume();
    let read = 0;
    for await (const message of messages) {
      if (until !== undefined && message.time > until) break;
      stored.push({ subject: message.subject, seq: message.seq, text: message.string(), msgID: message.headers?.get(PubHeaders.MsgIdHdr) ?? '', storedAt: message.time });
      if (++read === info.num_pending) break;
    }
    return stored;
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}

/** Every message stored on a subject of a JetStream stream now, as text, in order. */
export async function readStored(js: JetStreamClient, stream: string, subject: string): Promise<string[]> {
  return (await readStoredMessages(js, stream, subject)).map((message) => message.text);
}
