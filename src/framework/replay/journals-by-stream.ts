import { LiveCrewError } from '../errors.js';
import { messages } from '../messages.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import { decisionStream } from './decision-keys.js';

/**
 * One journal over the journals of several streams, each decision going to its stream's (the
 * stream its key names): what a pool worker's crews record their model calls and effects in,
 * each owned stream's decisions kept where the next owner of that stream reads them.
 */
export class JournalsByStream implements DecisionJournal {
  readonly replaying = false;
  readonly #journals = new Map<string, DecisionJournal>();

  /** Decisions of `streamId` go to `journal` from now on. */
  add(streamId: string, journal: DecisionJournal): void {
    this.#journals.set(streamId, journal);
  }

  /** Decisions of `streamId` go nowhere any more; its journal is its owner's to close. */
  remove(streamId: string): void {
    this.#journals.delete(streamId);
  }

  has(key: string): boolean {
    return this.#of(key)?.has(key) ?? false;
  }

  value(key: string): unknown {
    return this.#of(key)?.value(key);
  }

  /** @throws LiveCrewError for a decision of no stream held here: it would be lost */
  record(key: string, value?: unknown) {
    const journal = this.#of(key);
    if (journal === undefined) throw new LiveCrewError(messages.decisionOfNoStreamHere(key));
    return journal.record(key, value);
  }

  async close(): Promise<void> {}

  #of(key: string): DecisionJournal | undefined {
    const streamId = decisionStream(key);
    return streamId === undefined ? undefined : this.#journals.get(streamId);
  }
}
