import type { Action } from '../model/action.js';
import type { ErrorRecord } from '../model/error-record.js';
import { andThen } from '../maybe-async.js';
import type { CommittedContext, ContextSnapshot } from '../model/committed-context.js';
import type { InputOrigin, InputRecord } from '../model/input-record.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { EventSource, InputBatch } from '../ports/event-source.js';
import type { ActionSink, EmittedAction, ErrorSink } from '../ports/sinks.js';

const BATCH_SIZE = 1024;

/**
 * A source over values in memory. Strings are JSON text (as a JSONL line would be); anything
 * else is an event value. Positions are indexes: errors name `input[3]`.
 */
export class ArrayEventSource implements EventSource {
  readonly #records: readonly InputRecord[];
  readonly #origin: InputOrigin;
  #closed = false;

  constructor(items: Iterable<unknown>, name = 'input') {
    this.#records = [...items].map((item, position) => (typeof item === 'string' ? { text: item, position } : { value: item, position }));
    this.#origin = { name, locate: (index) => `${name}[${index}]` };
  }

  async *batches(): AsyncGenerator<InputBatch> {
    for (let start = 0; start < this.#records.length && !this.#closed; start += BATCH_SIZE) {
      yield { origin: this.#origin, records: this.#records.slice(start, start + BATCH_SIZE) };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/**
 * Keeps every action as a consumer of the JSON output would read it: each is parsed back from
 * its line, so a test sees exactly what a sink receives.
 */
export class CollectingActionSink implements ActionSink {
  readonly actions: Action[] = [];
  /** The same actions as the sinks got them: with their JSON and id (which names the crew, slice and event). */
  readonly emitted: EmittedAction[] = [];

  write(actions: readonly EmittedAction[]): void {
    for (const emitted of actions) {
      this.actions.push(JSON.parse(emitted.json) as Action);
      this.emitted.push(emitted);
    }
  }

  async close(): Promise<void> {}
}

/** Keeps every error record. */
export class CollectingErrorSink implements ErrorSink {
  readonly errors: ErrorRecord[] = [];

  write(errors: readonly ErrorRecord[]): void {
    this.errors.push(...errors);
  }

  async close(): Promise<void> {}
}

/**
 * A decision journal in memory: records into `recorded`, or replays the decisions it was given.
 * Hand a recorded run's `recorded` to a second run to replay it (timeouts, model answers).
 */
export class MemoryDecisionJournal implements DecisionJournal {
  readonly replaying: boolean;
  /** The decisions this run took, in order, with their values. */
  readonly recorded = new Map<string, unknown>();
  readonly #replay: ReadonlyMap<string, unknown> | undefined;

  /** @param replay the decisions of a recorded run to repeat; none for a recording run */
  constructor(replay?: ReadonlyMap<string, unknown>) {
    this.replaying = replay !== undefined;
    this.#replay = replay;
  }

  has(key: string): boolean {
    return (this.#replay ?? this.recorded).has(key);
  }

  value(key: string): unknown {
    return (this.#replay ?? this.recorded).get(key);
  }

  record(key: string, value?: unknown): void {
    this.recorded.set(key, value);
  }

  async close(): Promise<void> {}
}

/**
 * `backend`, where a stream it holds nothing for starts from `seed`'s context for it: S(-1), the
 * state a test begins in (`createTestingApp({ context })`).
 */
export function seededContext(backend: ContextBackend, seed: Readonly<Record<string, ContextSnapshot>>): ContextBackend {
  return {
    load: (streamId) =>
      andThen(backend.load(streamId), (committed): CommittedContext | undefined => committed ?? (Object.hasOwn(seed, streamId) ? { slice: -1, context: seed[streamId]! } : undefined)),
    commit: (streamId, slice, snapshot, progress) => backend.commit(streamId, slice, snapshot, progress),
    close: () => backend.close(),
  };
}
