import type { JetStreamClient } from '@nats-io/jetstream';
import type { CrewWork, CrewWorkSink } from '../../framework/ports.js';
import { encodeWork } from './crew-work-wire.js';
import { publishInOrder, type OutgoingMessage } from './jetstream-publishing.js';

/** How many work items are gathered before `send` waits for them to be stored (the backpressure). */
const MAX_GATHERED = 1024;

/**
 * Publishes crews' work to JetStream in the order sent. Items sent in one synchronous run of the
 * engine (an input batch) are gathered and published together once it yields, so a batch costs
 * one round trip and a call waits for no later event. Publishes are chained: a batch goes out
 * once the one before is stored, which keeps the order across a server restart. Every item has a
 * deterministic message id: a successor's re-send is stored once.
 */
export class JetStreamCrewWorkSink implements CrewWorkSink {
  readonly #js: JetStreamClient;
  #gathered: OutgoingMessage[] = [];
  /** The last publish started: the next one goes after it. */
  #tail: Promise<void> = Promise.resolve();

  constructor(js: JetStreamClient) {
    this.#js = js;
  }

  send(work: CrewWork): Promise<void> | undefined {
    this.#gathered.push(encodeWork(work));
    if (this.#gathered.length === 1) queueMicrotask(() => void this.flush().catch(() => undefined));
    return this.#gathered.length < MAX_GATHERED ? undefined : this.flush();
  }

  /** Publishes what is gathered; resolves when everything sent so far is stored. */
  flush(): Promise<void> {
    const messages = this.#gathered;
    this.#gathered = [];
    if (messages.length > 0) this.#tail = this.#tail.then(() => publishInOrder(this.#js, messages));
    return this.#tail;
  }
}
