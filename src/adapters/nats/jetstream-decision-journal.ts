import type { JetStreamClient } from '@nats-io/jetstream';
import type { DecisionJournal } from '../../framework/ports.js';
import { LIVE_STREAMS, liveSubject } from './jetstream-streams.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';
import { readStored } from './jetstream-reading.js';

/**
 * The decisions of a distributed run of one stream, kept in JetStream on `live.<stream>.journal`,
 * one per message: the decision key as the body, or `{"decision", "value"}` JSON for a decision
 * with a value (a model's answer); the key is the message id too, so a decision is stored once.
 * Opening reads every decision recorded so far: a successor scheduler, or a runner re-running a
 * slice, repeats them instead of asking the clock (or paying a model) again.
 */
export class JetStreamDecisionJournal implements DecisionJournal {
  readonly replaying = false;
  readonly #publisher: JetStreamPublisher;
  readonly #subject: string;
  readonly #decisions: Map<string, unknown>;

  private constructor(publisher: JetStreamPublisher, subject: string, decisions: Map<string, unknown>) {
    this.#publisher = publisher;
    this.#subject = subject;
    this.#decisions = decisions;
  }

  /** The journal of a stream, with every decision recorded so far loaded (read with `js`, written with `publisher`). */
  static async open(js: JetStreamClient, publisher: JetStreamPublisher, streamId: string): Promise<JetStreamDecisionJournal> {
    const subject = liveSubject(streamId, 'journal');
    return new JetStreamDecisionJournal(publisher, subject, new Map((await readStored(js, LIVE_STREAMS.journal.name, subject)).map(decodeDecision)));
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
    await this.#publisher.publishInOrder([{ subject: this.#subject, data, msgID: key }]);
  }

  async close(): Promise<void> {}
}

/** A journal message as `[key, value]`: a bare key (decision keys never start with `{`), or JSON with a value. */
export function decodeDecision(text: string): [string, unknown] {
  if (!text.startsWith('{')) return [text, undefined];
  const { decision, value } = JSON.parse(text) as { decision: string; value?: unknown };
  return [decision, value];
}
