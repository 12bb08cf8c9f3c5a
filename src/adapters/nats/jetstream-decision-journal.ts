import { AckPolicy, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import type { DecisionJournal } from '../../framework/ports.js';
import { LIVE_STREAMS, liveSubject } from './jetstream-streams.js';
import { publishInOrder } from './jetstream-publishing.js';
import { readerName } from './jetstream-reading.js';

/**
 * The decisions of a distributed run of one stream, kept in JetStream on `live.<stream>.journal`,
 * one per message: the decision key as the body, or `{"decision", "value"}` JSON for a decision
 * with a value (a model's answer); the key is the message id too, so a decision is stored once.
 * Opening reads every decision recorded so far: a successor scheduler, or a runner re-running a
 * slice, repeats them instead of asking the clock (or paying a model) again.
 */
export class JetStreamDecisionJournal implements DecisionJournal {
  readonly replaying = false;
  readonly #js: JetStreamClient;
  readonly #subject: string;
  readonly #decisions: Map<string, unknown>;

  private constructor(js: JetStreamClient, subject: string, decisions: Map<string, unknown>) {
    this.#js = js;
    this.#subject = subject;
    this.#decisions = decisions;
  }

  /** The journal of a stream, with every decision recorded so far loaded. */
  static async open(js: JetStreamClient, streamId: string): Promise<JetStreamDecisionJournal> {
    const subject = liveSubject(streamId, 'journal');
    return new JetStreamDecisionJournal(js, subject, new Map((await readAll(js, subject)).map(decode)));
  }

  has(key: string): boolean {
    return this.#decisions.has(key);
  }

  value(key: string): unknown {
    return this.#decisions.get(key);
  }

  async record(key: string, value?: unknown): Promise<void> {
    this.#decisions.set(key, value);
    const data = value === undefined ? key : JSON.stringify({ decision: key, value });
    await publishInOrder(this.#js, [{ subject: this.#subject, data, msgID: key }]);
  }

  async close(): Promise<void> {}
}

/** A journal message as `[key, value]`: a bare key (decision keys never start with `{`), or JSON with a value. */
function decode(text: string): [string, unknown] {
  if (!text.startsWith('{')) return [text, undefined];
  const { decision, value } = JSON.parse(text) as { decision: string; value?: unknown };
  return [decision, value];
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
