import type { CrewWork, CrewWorkSink } from '../../framework/runner-protocol.js';
import { encodeWork } from './crew-work-wire.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';

/** How many work items are gathered before `send` waits for them to be stored (the backpressure). */
const MAX_GATHERED = 1024;

/**
 * Publishes crews' work to JetStream in the order sent. One publish is in flight at a time;
 * what is sent meanwhile is gathered and goes out together when it is stored, a runner group's
 * items sharing messages. So at a trickle every call goes out at once, and under load the batches
 * grow instead of a queue: the cost per call falls as the rate rises. Every message has a
 * deterministic id; a runner runs a call once even if it is sent again.
 */
export class JetStreamCrewWorkSink implements CrewWorkSink {
  readonly #publisher: JetStreamPublisher;
  readonly #groupOf: (crew: string) => string;
  #gathered: CrewWork[] = [];
  /** The publishing under way, until nothing is gathered. */
  #draining: Promise<void> | undefined;
  /** Why a publish failed: every send and flush after it fails too, so no later wait misses it. */
  #failure: unknown;

  /** @param groupOf - the work group of a crew: its runner group's, or `default` (`RunnerGroups.workGroupOf`) */
  constructor(publisher: JetStreamPublisher, groupOf: (crew: string) => string) {
    this.#publisher = publisher;
    this.#groupOf = groupOf;
  }

  send(work: CrewWork): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    this.#gathered.push(work);
    if (this.#draining === undefined) {
      this.#draining = this.#drain();
      // A failure reaches whoever waits on `flush`; it must not go unhandled meanwhile.
      this.#draining.catch(() => undefined);
    }
    return this.#gathered.length < MAX_GATHERED ? undefined : this.#draining;
  }

  /** Resolves when everything sent so far is stored. */
  flush(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return this.#draining ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    // The engine sends a whole input batch synchronously: let it finish first.
    await Promise.resolve();
    try {
      while (this.#gathered.length > 0) {
        const items = this.#gathered;
        this.#gathered = [];
        await this.#publisher.publishInOrder(encodeWork(items, this.#groupOf));
      }
    } catch (error) {
      this.#failure ??= error;
      throw error;
    } finally {
      this.#draining = undefined;
    }
  }
}
