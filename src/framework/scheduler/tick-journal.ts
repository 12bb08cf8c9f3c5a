import { z } from 'zod';
import { InputError } from '../errors.js';
import { messages } from '../messages.js';
import { describeIssues } from '../model/event.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import { tickDecision } from '../replay/decision-keys.js';

/** A stream a tick advanced, and the slice it advanced to (its slices below it closed). */
export type TickAdvance = [streamId: string, slice: number];

/** What a tick did, as the journal keeps it: streams it advanced, or idle streams it forgot. */
const TickSchema = z.union([z.strictObject({ advanced: z.array(z.tuple([z.string(), z.number().int()])) }), z.strictObject({ forgotten: z.array(z.string()) })]);

/** See `TickSchema`. */
export type Tick = { readonly advanced?: readonly TickAdvance[]; readonly forgotten?: readonly string[] };

/**
 * The live engine's ticks as journaled decisions (`tick:<events accepted>:<n>`): each is stored
 * before it is acted on, so a successor going over the same input, or a replay, does the same at
 * the same point. Ticks between two events are numbered 0, 1, 2, ...
 */
export class TickJournal {
  readonly #journal: DecisionJournal | undefined;
  /** Whether journaled ticks are looked for at each event: in live mode (a successor) and in a replay. */
  readonly replays: boolean;
  /** Ticks taken (or applied from the journal) since event number `#at`: the next tick's number. */
  #at = -1;
  #taken = 0;

  constructor(journal: DecisionJournal | undefined, live: boolean) {
    this.#journal = journal;
    this.replays = journal !== undefined && (live || journal.replaying);
  }

  /** Journals what a tick taken after `accepted` events is about to do, if it does anything. */
  record(accepted: number, tick: Tick): MaybePromise<void> {
    if ((tick.advanced ?? tick.forgotten ?? []).length === 0) return;
    const key = tickDecision(accepted, this.#next(accepted));
    this.#taken++;
    return this.#journal?.record(key, tick);
  }

  /**
   * The next tick the journal says was taken after `accepted` events and was not applied here
   * yet, counted as applied; undefined when there is none.
   *
   * @throws InputError for a journaled tick that is not one
   */
  nextJournaled(accepted: number): Tick | undefined {
    const journal = this.#journal;
    if (journal === undefined || !this.replays) return undefined;
    const key = tickDecision(accepted, this.#next(accepted));
    if (!journal.has(key)) return undefined;
    this.#taken++;
    const parsed = TickSchema.safeParse(journal.value(key));
    if (!parsed.success) throw new InputError(messages.journalDecisionInvalid(key, '{"advanced": [[stream id, slice], ...]} or {"forgotten": [stream id, ...]}', describeIssues(parsed.error)));
    return parsed.data;
  }

  #next(accepted: number): number {
    if (this.#at !== accepted) {
      this.#at = accepted;
      this.#taken = 0;
    }
    return this.#taken;
  }
}
