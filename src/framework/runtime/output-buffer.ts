import { ErrorReason, type ErrorRecord } from '../model/error-record.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ActionSink, EmittedAction, ErrorSink } from '../ports/sinks.js';
import type { RunOutput } from './run-output.js';

/** How many errors a run produced, per reason. */
export type ErrorCounts = Record<ErrorReason, number>;

/** Zero for every reason. */
export function emptyErrorCounts(): ErrorCounts {
  return Object.fromEntries(Object.values(ErrorReason).map((reason) => [reason, 0])) as ErrorCounts;
}

/**
 * Collects what the runtime produces between two flushes and counts it. The app flushes after
 * each input batch, so sinks see batches, not single records, and memory stays bounded.
 */
export class OutputBuffer implements RunOutput {
  #actions: EmittedAction[] = [];
  #errors: ErrorRecord[] = [];
  actionCount = 0;
  /** Characters of action JSON held since the last flush. */
  pendingChars = 0;
  readonly errorCounts = emptyErrorCounts();
  /** The same, per crew, for the records that name one. */
  readonly errorCountsByCrew = new Map<string, ErrorCounts>();
  readonly #observer: RunObserver | undefined;
  /** The flush under way: flushes run one after another, so sinks get batches in order. */
  #flushing: Promise<void> | undefined;

  /** @param observer - told what the sinks accepted */
  constructor(observer?: RunObserver) {
    this.#observer = observer;
  }

  action(action: EmittedAction): void {
    this.#actions.push(action);
    this.actionCount++;
    this.pendingChars += action.json.length;
  }

  error(record: ErrorRecord): void {
    this.#errors.push(record);
    this.errorCounts[record.payload.reason]++;
    const crew = record.payload.crew;
    if (crew === undefined) return;
    let counts = this.errorCountsByCrew.get(crew);
    if (counts === undefined) this.errorCountsByCrew.set(crew, (counts = emptyErrorCounts()));
    counts[record.payload.reason]++;
  }

  /**
   * Hands what was collected to the sinks; resolves when they accept more. A flush asked for
   * while one is under way runs after it (calls that end in the background flush too).
   */
  flush(actions: ActionSink, errors: ErrorSink): Promise<void> {
    const previous = this.#flushing;
    const flushed: Promise<void> = previous === undefined ? this.#write(actions, errors) : previous.then(() => this.#write(actions, errors));
    const tracked = flushed.finally(() => {
      if (this.#flushing === tracked) this.#flushing = undefined;
    });
    this.#flushing = tracked;
    return tracked;
  }

  async #write(actions: ActionSink, errors: ErrorSink): Promise<void> {
    if (this.#errors.length > 0) {
      const batch = this.#errors;
      this.#errors = [];
      await errors.write(batch);
      this.#observer?.errorsSent?.(batch);
    }
    if (this.#actions.length > 0) {
      const batch = this.#actions;
      this.#actions = [];
      this.pendingChars = 0;
      await actions.write(batch);
      this.#observer?.actionsSent?.(batch);
    }
  }
}
