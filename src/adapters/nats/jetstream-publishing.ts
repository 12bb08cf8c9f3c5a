import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { ClosedConnectionError, DrainingConnectionError } from '@nats-io/transport-node';
import { sleep } from './jetstream-reading.js';
import { ConnectionError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/** How long a write keeps being retried while the server is away, in ms. */
const GIVE_UP_AFTER_MS = 120_000;

/**
 * Runs a JetStream write (a publish with a message id, a KV put) until the server stores it.
 * While the server is away (restarting, a network cut) the client reconnects and the write is
 * retried, backing off to 1 s; a write JetStream refuses (wrong revision, bad subject) and a
 * closed connection fail at once. Only idempotent writes belong here: a retried publish must
 * carry a message id.
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
      if (permanent || Date.now() > deadline) throw new ConnectionError(messages.serverRefused(what, (error as Error).message), { cause: error });
      await sleep(Math.min(1000, 25 * 2 ** attempt));
    }
  }
}

/** A message to publish, with the id JetStream de-duplicates it by. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly data: string;
  readonly msgID: string;
}

/**
 * Publishes messages so the stream stores each once and in the given order, even across a
 * server restart. They are pipelined on the one connection, which delivers them in order, so
 * what the server stored of them is a prefix; from the first one not acknowledged they are sent
 * again one at a time (the stored ones are de-duplicated by id).
 */
export async function publishInOrder(js: JetStreamClient, messages: readonly OutgoingMessage[]): Promise<void> {
  const acknowledged = await Promise.all(
    messages.map(({ subject, data, msgID }) =>
      js.publish(subject, data, { msgID }).then(
        () => true,
        () => false,
      ),
    ),
  );
  const first = acknowledged.indexOf(false);
  if (first < 0) return;
  for (const { subject, data, msgID } of messages.slice(first)) {
    await untilStored(() => js.publish(subject, data, { msgID }), `publishing to ${subject}`);
  }
}

/** A write refused because the key changed since the revision it was based on. */
export function isRevisionConflict(error: unknown): boolean {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return cause instanceof JetStreamApiError && (cause.code === JetStreamApiCodes.StreamWrongLastSequence || cause.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
