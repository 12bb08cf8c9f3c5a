import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { z } from 'zod';
import { InputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { DecisionJournal } from '../../framework/ports/decision-journal.js';
import { describeThrown } from '../../framework/describe-thrown.js';

const JournalLine = z.strictObject({ decision: z.string().min(1), value: z.unknown().optional() });

/** Where a journal records to and replays from; either may be absent. */
export interface JsonlDecisionJournalOptions {
  /** A JSONL file to write the decisions of this run to. */
  recordTo?: string | null;
  /** A JSONL file of a recorded run whose decisions this run repeats. */
  replayFrom?: string | null;
}

/**
 * A decision journal in JSONL files, one `{"decision": "<key>", "value": ...}` line per decision
 * (`value` only where the decision has one: a model's answer). Replaying reads the whole file at
 * start: journals hold decisions and answers, not events.
 *
 * Replaying and recording at once, the recording is the run's whole journal: each recorded
 * decision the run takes (every lookup that finds one is one it takes) is written again, in the
 * order taken, beside those it took anew (a later line of a key wins), so replaying the recording
 * repeats this run.
 */
export class JsonlDecisionJournal implements DecisionJournal {
  readonly replaying: boolean;
  readonly #recorded: ReadonlyMap<string, unknown>;
  readonly #recordTo: string | null;
  /** The decisions written to the recording. */
  readonly #written = new Set<string>();
  #out: WriteStream | undefined;

  /** @throws InputError naming file and line for a replay file that cannot be read or parsed */
  constructor(options: JsonlDecisionJournalOptions = {}) {
    this.#recordTo = options.recordTo ?? null;
    this.replaying = options.replayFrom != null;
    this.#recorded = options.replayFrom != null ? readJournal(options.replayFrom) : new Map();
  }

  has(key: string): boolean {
    if (!this.#recorded.has(key)) return false;
    this.#carry(key);
    return true;
  }

  value(key: string): unknown {
    if (this.#recorded.has(key)) this.#carry(key);
    return this.#recorded.get(key);
  }

  /** Writes the decision; a later line of a key wins when read (a replayed answer asked again with `replay_missing: live`). */
  record(key: string, value?: unknown): void {
    if (this.#recordTo === null) return;
    this.#written.add(key);
    this.#out ??= createWriteStream(this.#recordTo);
    this.#out.write(`${JSON.stringify(value === undefined ? { decision: key } : { decision: key, value })}\n`);
  }

  /** A recorded decision the run takes goes into its own recording too. */
  #carry(key: string): void {
    if (this.#recordTo !== null && !this.#written.has(key)) this.record(key, this.#recorded.get(key));
  }

  /** Ends the recording; a run that took no decision still leaves an (empty) journal to replay. */
  async close(): Promise<void> {
    if (this.#recordTo === null) return;
    this.#out ??= createWriteStream(this.#recordTo);
    this.#out.end();
    await once(this.#out, 'finish');
  }
}

function readJournal(path: string): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(messages.journalUnreadable(path, describeThrown(error)), { cause: error });
  }
  const decisions = new Map<string, unknown>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(messages.journalLineInvalid(`${path}:${index + 1}`, describeThrown(error)));
    }
    const parsed = JournalLine.safeParse(value);
    if (!parsed.success) throw new InputError(messages.journalLineInvalid(`${path}:${index + 1}`, 'expected {"decision": "<key>", "value"?: <JSON>}'));
    decisions.set(parsed.data.decision, parsed.data.value);
  });
  return decisions;
}
