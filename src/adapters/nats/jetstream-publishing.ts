import { JetStreamApiCodes, JetStreamApiError, PubHeaders, type JetStreamClient } from '@nats-io/jetstream';
import { ClosedConnectionError, createInbox, DrainingConnectionError, headers, type Msg, type MsgHdrs, type NatsConnection, type PublishOptions } from '@nats-io/transport-node';
import { sleep } from './jetstream-reading.js';
import { ConnectionError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** How long a write keeps being retried while the server is away, in ms. */
const GIVE_UP_AFTER_MS = 120_000;

/**
 * Runs a JetStream write (a publish with a message id, a KV put) until the server stores it.
 * While the server is away (restarting, a network cut) the client reconnects and the write is
 * retried, backing off to 1 s; a write JetStream refuses (wrong revision, bad subject) and a
 * closed connection fail at once. Only idempotent writes belong here: a retried publish must
 * carry a message id, or be a KV put of a key's whole value.
 */
export async function untilStored<T>(write: () => Promise<T>, what: string): Promise<T> {
  const deadline = Date.now() + GIVE_UP_AFTER_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      // 503: JetStream is still starting up after a restart; any other refusal is final.
      const refused = error instanceof JetStreamApiError && error.status !== 503;
      const permanent = refused || error instanceof ClosedConnectionError || error instanceof DrainingConnectionError;
      if (permanent || Date.now() > deadline) throw new ConnectionError(messages.serverRefused(what, describeThrown(error)), { cause: error });
      await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
  }
}

/** A message to publish, with the id JetStream de-duplicates it by. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly data: string;
  /** None only for a write whose repeat changes nothing: a KV put of a key's whole value. */
  readonly msgID?: string;
  /** Headers beside the message id. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The NATS headers of a message: its id and its own headers; undefined when it has none. */
function headersOf({ msgID, headers: own }: OutgoingMessage): MsgHdrs | undefined {
  if (msgID === undefined && own === undefined) return undefined;
  const header = headers();
  if (msgID !== undefined) header.set(PubHeaders.MsgIdHdr, msgID);
  for (const [name, value] of Object.entries(own ?? {})) header.set(name, value);
  return header;
}

/** How long a pipelined publish waits for its acknowledgement before it is sent the slow way, in ms (the client's request timeout). */
const ACK_WAIT_MS = 5_000;

/** Where the server stored a message: its stream and sequence, and whether it had it already (a duplicate id). */
interface StoredAt {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** A pipelined publish waiting for its acknowledgement. */
interface AwaitedAck {
  readonly sentAt: number;
  /** Where it was stored; undefined when it was not acknowledged as stored. */
  readonly resolve: (stored: StoredAt | undefined) => void;
}

/**
 * Publishes to JetStream on one connection so each message is stored once and in order, even
 * across a server restart.
 *
 * Messages are pipelined: each is published with a reply subject on one inbox the publisher
 * subscribes to once, and the server's acknowledgements are matched to them there. The
 * client's `js.publish` makes every publish a request of its own: a timer, a promise chain, and
 * an `Error` built whatever the outcome (up to a tenth of a distributed run's CPU in `bench/nats-e2e`).
 * The connection delivers in order, so what a disconnect cut off is a suffix. From the first
 * message not acknowledged (refused, timed out, or cut off) on, each message not acknowledged
 * goes again, one at a time, through `js.publish` and `untilStored` (one stored all the same is
 * de-duplicated by id): so failures are retried, and named, as before. A message retried so may
 * land after later ones the server did store (it refused the first for a while, then took it):
 * the acknowledgements' sequences show it, and the publish fails rather than leave readers a
 * reordered stream unsaid.
 */
export class JetStreamPublisher {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #inbox = createInbox();
  readonly #awaited = new Map<number, AwaitedAck>();
  #next = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(nc: NatsConnection, js: JetStreamClient) {
    this.#nc = nc;
    this.#js = js;
    nc.subscribe(`${this.#inbox}.*`, { callback: (_error, message) => this.#acknowledged(message) });
    void this.#giveUpOnDisconnect();
    void nc.closed().then(() => this.#stop());
  }

  /**
   * Publishes `batch` in order; resolves when the stream has stored it all.
   *
   * @throws ConnectionError naming the subject of one that cannot be stored, or of one stored
   *   after a later message of the batch (its retry came after the server took that one)
   */
  async publishInOrder(batch: readonly OutgoingMessage[]): Promise<void> {
    const stored = await Promise.all(batch.map((message) => this.#send(message)));
    const first = stored.indexOf(undefined);
    if (first < 0) return;
    for (let i = first; i < batch.length; i++) {
      if (stored[i] !== undefined) continue;
      const message = batch[i]!;
      // The id goes in the headers: the client would set it there over a header of the same name.
      const header = headersOf(message);
      const ack = await untilStored(() => this.#js.publish(message.subject, message.data, header === undefined ? undefined : { headers: header }), `publishing to ${message.subject}`);
      stored[i] = { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    }
    checkStoredInOrder(batch, stored as StoredAt[]);
  }

  /** Sends one message; resolves where the server stored it, or undefined if it did not say it stored it. */
  #send(message: OutgoingMessage): Promise<StoredAt | undefined> {
    const { subject, data } = message;
    const token = this.#next++;
    const reply = `${this.#inbox}.${token}`;
    const header = headersOf(message);
    const options: PublishOptions = header === undefined ? { reply } : { reply, headers: header };
    return new Promise<StoredAt | undefined>((resolve) => {
      try {
        this.#nc.publish(subject, data, options);
      } catch {
        // A closed or draining connection: the slow way says so.
        resolve(undefined);
        return;
      }
      this.#awaited.set(token, { sentAt: Date.now(), resolve });
      this.#sweep ??= setInterval(() => this.#expire(), ACK_WAIT_MS / 5).unref();
    });
  }

  /** A reply on the inbox: the acknowledgement of the message its last token numbers. */
  #acknowledged(message: Msg): void {
    const token = Number(message.subject.slice(this.#inbox.length + 1));
    const awaited = this.#awaited.get(token);
    if (awaited === undefined) return;
    this.#awaited.delete(token);
    awaited.resolve(storedAt(message));
  }

  /** Gives up on acknowledgements older than ACK_WAIT_MS: the oldest come first. */
  #expire(): void {
    const now = Date.now();
    for (const [token, awaited] of this.#awaited) {
      if (now - awaited.sentAt < ACK_WAIT_MS) break;
      this.#awaited.delete(token);
      awaited.resolve(undefined);
    }
  }

  /** Acknowledgements lost with the connection never come: those messages go the slow way at once. */
  async #giveUpOnDisconnect(): Promise<void> {
    for await (const status of this.#nc.status()) if (status.type === 'disconnect') this.#giveUpAll();
  }

  #giveUpAll(): void {
    const awaited = [...this.#awaited.values()];
    this.#awaited.clear();
    for (const { resolve } of awaited) resolve(undefined);
  }

  #stop(): void {
    clearInterval(this.#sweep);
    this.#giveUpAll();
  }
}

/** Where a reply says the message was stored, if it is JetStream's acknowledgement of it (not an error, nor a status with no body). */
function storedAt(message: Msg): StoredAt | undefined {
  try {
    const ack = JSON.parse(message.string()) as { stream?: unknown; seq?: unknown; duplicate?: unknown; error?: unknown };
    if (ack.error !== undefined || typeof ack.stream !== 'string' || ack.stream === '' || typeof ack.seq !== 'number') return undefined;
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
  } catch {
    return undefined;
  }
}

/**
 * Checks that what the server newly stored of a batch is in the batch's order in each stream. A
 * duplicate was stored before, by an earlier batch: its place is its own.
 *
 * @throws ConnectionError naming the message stored after a later one, and that one
 */
function checkStoredInOrder(batch: readonly OutgoingMessage[], stored: readonly StoredAt[]): void {
  const last = new Map<string, { readonly seq: number; readonly subject: string }>();
  for (const [i, at] of stored.entries()) {
    if (at.duplicate) continue;
    const before = last.get(at.stream);
    const subject = batch[i]!.subject;
    if (before !== undefined && at.seq < before.seq) throw new ConnectionError(messages.storedOutOfOrder(at.stream, before.subject, before.seq, subject, at.seq));
    last.set(at.stream, { seq: at.seq, subject });
  }
}

/** A write refused because the key changed since the revision it was based on. */
export function isRevisionConflict(error: unknown): boolean {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return cause instanceof JetStreamApiError && (cause.code === JetStreamApiCodes.StreamWrongLastSequence || cause.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
