import { AckPolicy, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { DecisionJournal } from '../../framework/ports.js';
import { LIVE_STREAMS, liveSubject } from './jetstream-streams.js';
import { publishInOrder } from './jetstream-publishing.js';
import { readerName } from './jetstream-reading.js';

/**
 * The wall-clock decisions of a distributed run of one stream, kept in JetStream on
 * `live.<stream>.journal`, one decision key per message (its message id too, so a decision is
 * stored once). Opening reads every decision recorded so far: a successor scheduler, or a runner
 * re-running a slice, repeats them instead of asking the clock again; new ones are recorded.
 */
export class JetStreamDecisionJournal implements DecisionJournal {
  readonly replaying = false;
  readonly #js: JetStreamClient;
  readonly #subject: string;
  readonly #decisions: Set<string>;

  private constructor(js: JetStreamClient, subject: string, decisions: Set<string>) {
    this.#js = js;
    this.#subject = subject;
    this.#decisions = decisions;
  }

  /** The journal of a stream, with every decision recorded so far loaded. */
  static async open(js: JetStreamClient, streamId: string): Promise<JetStreamDecisionJournal> {
    const subject = liveSubject(streamId, 'journal');
    return new JetStreamDecisionJournal(js, subject, new Set(await readAll(js, subject)));
  }

  has(key: string): boolean {
    return this.#decisions.has(key);
  }

  async record(key: string): Promise<void> {
    this.#decisions.add(key);
    await publishInOrder(this.#js, [{ subject: this.#subject, data: key, msgID: key }]);
  }

  async close(): Promise<void> {}
}

/** Every message stored on a subject of LIVE_JOURNAL now, as text. */
async function readAll(js: JetStreamClient, subject: string): Promise<string[]> {
  const stream = LIVE_STREAMS.journal.name;
  const jsm = await js.jetstreamManager();
  const info = await jsm.consumers.add(stream, { name: readerName(), filter_subject: subject, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, mem_storage: true });
  try {
    const texts: string[] = [];
    if (info.num_pending === 0) return texts;
    const messages = await (await js.consumers.get(stream, info.name)).consume();
    for await (const message of messages) {
      texts.push(message.string());
      if (texts.length === info.num_pending) break;
    }
    return texts;
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}
