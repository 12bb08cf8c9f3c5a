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

/** A pipelined publish waiting for its acknowledgement. */
interface AwaitedAck {
  readonly sentAt: number;
  readonly resolve: (stored: boolean) => void;
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
 * message not acknowledged (refused, timed out, or cut off) the batch goes again one message at
 * a time through `js.publish` and `untilStored`, and the stored ones are de-duplicated by id: so
 * failures are retried, and named, as before.
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

  /** Publishes `messages` in order; resolves when the stream has stored them all. @throws ConnectionError naming the subject of one that cannot be stored */
  async publishInOrder(messages: readonly OutgoingMessage[]): Promise<void> {
    const acknowledged = await Promise.all(messages.map((message) => this.#send(message)));
    const first = acknowledged.indexOf(false);
    if (first < 0) return;
    for (const message of messages.slice(first)) {
      // The id goes in the headers: the client would set it there over a header of the same name.
      const header = headersOf(message);
      await untilStored(() => this.#js.publish(message.subject, message.data, header === undefined ? undefined : { headers: header }), `publishing to ${message.subject}`);
    }
  }

  /** Sends one message; resolves whether the server acknowledged storing it. */
  #send(message: OutgoingMessage): Promise<boolean> {
    const { subject, data } = message;
    const token = this.#next++;
    const reply = `${this.#inbox}.${token}`;
    const header = headersOf(message);
    const options: PublishOptions = header === undefined ? { reply } : { reply, headers: header };
    return new Promise<boolean>((resolve) => {
      try {
        this.#nc.publish(subject, data, options);
      } catch {
        // A closed or draining connection: the slow way says so.
        resolve(false);
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
    awaited.resolve(isStoredAck(message));
  }

  /** Gives up on acknowledgements older than ACK_WAIT_MS: the oldest come first. */
  #expire(): void {
    const now = Date.now();
    for (const [token, awaited] of this.#awaited) {
      if (now - awaited.sentAt < ACK_WAIT_MS) break;
      this.#awaited.delete(token);
      awaited.resolve(false);
    }
  }

  /** Acknowledgements lost with the connection never come: those messages go the slow way at once. */
  async #giveUpOnDisconnect(): Promise<void> {
    for await (const status of this.#nc.status()) if (status.type === 'disconnect') this.#giveUpAll();
  }

  #giveUpAll(): void {
    const awaited = [...this.#awaited.values()];
    this.#awaited.clear();
    for (const { resolve } of awaited) resolve(false);
  }

  #stop(): void {
    clearInterval(this.#sweep);
    this.#giveUpAll();
  }
}

/** Whether a reply is JetStream's acknowledgement of a stored message (not an error, nor a status with no body). */
function isStoredAck(message: Msg): boolean {
  try {
    const ack = JSON.parse(message.string()) as { stream?: unknown; error?: unknown };
    return ack.error === undefined && typeof ack.stream === 'string' && ack.stream !== '';
  } catch {
    return false;
  }
}

/** A write refused because the key changed since the revision it was based on. */
export function isRevisionConflict(error: unknown): boolean {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return cause instanceof JetStreamApiError && (cause.code === JetStreamApiCodes.StreamWrongLastSequence || cause.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
