import type { JetStreamClient } from '@nats-io/jetstream';
import type { DecisionJournal } from '../../framework/ports/decision-journal.js';
import { messages } from '../../framework/messages.js';
import { DEFAULT_MAX_DEPTH } from '../../framework/model/frozen-json.js';
import { parseForeignJson } from '../../framework/model/json.js';
import { decisionOwner, sameOwner, type DecisionOwner } from '../../framework/replay/decision-keys.js';
import { journalOwnerOf, journalSubject, LIVE_STREAMS } from './jetstream-streams.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';
import { readStoredMessages, type StoredMessage } from './jetstream-reading.js';

/** How deep a journal entry may nest: a model's answer holds JSON of its own. */
const ENTRY_MAX_DEPTH = 8 + 2 * DEFAULT_MAX_DEPTH;

/** A journal entry read from JetStream that was not taken, and why. */
export interface RefusedDecision {
  readonly subject: string;
  readonly seq: number;
  readonly problem: string;
}

/** What `readDecisions` read: the decisions taken, in order of first entry, and the entries refused. */
export interface ReadDecisions {
  readonly decisions: Map<string, unknown>;
  readonly refused: readonly RefusedDecision[];
}

/**
 * The decisions of a distributed run of one stream, kept in JetStream (DESIGN §5 amendments):
 * each owner's on its own subject, `live.<stream>.journal.scheduler` or
 * `live.<stream>.journal.crew.<id>`, one per message: the decision key as the body, or
 * `{"decision", "value"}` JSON for a decision with a value (a model's answer). Opening reads
 * every decision its owners recorded so far: a successor scheduler, or a runner re-running a
 * slice, repeats them instead of asking the clock (or paying a model) again.
 *
 * An entry counts only from its owner's subject, which `live-crew acl` lets only the owner's
 * process publish: a runner cannot decide for a crew another runner hosts. Entries carry no
 * message id (one would let a forger with the same id make the server drop the real entry); the
 * first entry of a key counts, so a retried publish that stored twice changes nothing.
 */
export class JetStreamDecisionJournal implements DecisionJournal {
  readonly replaying = false;
  readonly #js: JetStreamClient;
  readonly #publisher: JetStreamPublisher;
  readonly #streamId: string;
  readonly #owners: readonly DecisionOwner[];
  readonly #decisions = new Map<string, unknown>();

  private constructor(js: JetStreamClient, publisher: JetStreamPublisher, streamId: string, owners: readonly DecisionOwner[]) {
    this.#js = js;
    this.#publisher = publisher;
    this.#streamId = streamId;
    this.#owners = owners;
  }

  /**
   * The journal of a stream for the decisions of `owners` (the scheduler, or the crews a runner
   * hosts), with every one recorded so far loaded (read with `js`, written with `publisher`), and
   * the entries refused there.
   */
  static async open(
    js: JetStreamClient,
    publisher: JetStreamPublisher,
    streamId: string,
    owners: readonly DecisionOwner[],
  ): Promise<{ journal: JetStreamDecisionJournal; refused: readonly RefusedDecision[] }> {
    const journal = new JetStreamDecisionJournal(js, publisher, streamId, owners);
    return { journal, refused: await journal.catchUp() };
  }

  /**
   * Loads what the owners recorded since this journal was opened (a standby taking over from a
   * leader that went on deciding meanwhile); returns the entries refused there.
   */
  async catchUp(): Promise<readonly RefusedDecision[]> {
    const stored = await Promise.all(this.#owners.map((owner) => readStoredMessages(this.#js, LIVE_STREAMS.journal.name, journalSubject(this.#streamId, owner))));
    const { decisions, refused } = takeDecisions(stored.flat());
    for (const [key, value] of decisions) if (!this.#decisions.has(key)) this.#decisions.set(key, value);
    return refused;
  }

  has(key: string): boolean {
    return this.#decisions.has(key);
  }

  value(key: string): unknown {
    return this.#decisions.get(key);
  }

  /** @throws Error for a decision none of this journal's owners takes (a process deciding for another) */
  async record(key: string, value?: unknown): Promise<void> {
    if (this.#decisions.has(key)) return;
    const owner = decisionOwner(key);
    if (owner === undefined || !this.#owners.some((mine) => sameOwner(mine, owner))) throw new Error(messages.decisionNotOwned(key, this.#streamId));
    this.#decisions.set(key, value);
    const data = value === undefined ? key : JSON.stringify({ decision: key, value });
    await this.#publisher.publishInOrder([{ subject: journalSubject(this.#streamId, owner), data }]);
  }

  async close(): Promise<void> {}
}

/** Every decision of a stream in JetStream, of every owner (a replay of the stream). */
export async function readDecisions(js: JetStreamClient, streamId: string): Promise<ReadDecisions> {
  return takeDecisions(await readStoredMessages(js, LIVE_STREAMS.journal.name, journalSubject(streamId, '*')));
}

/** The decisions of stored entries, in order: the first entry of a key counts, and only from its owner's subject. */
function takeDecisions(stored: readonly StoredMessage[]): ReadDecisions {
  const decisions = new Map<string, unknown>();
  const refused: RefusedDecision[] = [];
  for (const { subject, seq, text } of stored) {
    const decoded = decodeDecision(text);
    if (typeof decoded === 'string') {
      refused.push({ subject, seq, problem: decoded });
      continue;
    }
    const [key, value] = decoded;
    const owner = decisionOwner(key);
    const on = journalOwnerOf(subject);
    if (owner === undefined || on === undefined || !sameOwner(owner, on)) refused.push({ subject, seq, problem: messages.decisionOnWrongSubject(key, subject) });
    else if (!decisions.has(key)) decisions.set(key, value);
  }
  return { decisions, refused };
}

/** A journal message as `[key, value]`: a bare key (decision keys never start with `{`), or JSON with a value; else what is wrong with it. */
function decodeDecision(text: string): [string, unknown] | string {
  if (!text.startsWith('{')) return text === '' || text.length > MAX_KEY_LENGTH ? messages.notADecision('its key is empty or too long') : [text, undefined];
  const json = parseForeignJson(text, ENTRY_MAX_DEPTH);
  if (json.problem !== undefined) return messages.notADecision(json.problem);
  const { decision, value } = json.value as { decision?: unknown; value?: unknown };
  return typeof decision === 'string' && decision !== '' && decision.length <= MAX_KEY_LENGTH ? [decision, value] : messages.notADecision('it has no "decision" key');
}

/** The longest decision key: a stream id, a crew id, a method name and numbers fit well within it. */
const MAX_KEY_LENGTH = 1000;
