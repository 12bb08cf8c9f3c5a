import { ERROR_KIND, ErrorReason, UNKNOWN_STREAM } from '../model/error-record.js';
import type { EventDecoder } from '../model/event.js';
import { STREAM_ID_PATTERN } from '../model/patterns.js';
import { isPromiseLike } from '../maybe-async.js';
import type { InputOrigin, InputRecord } from '../model/input-record.js';
import type { Clock } from '../ports/clock.js';
import type { EventSource, InputBatch } from '../ports/event-source.js';
import type { MaybePromise } from '../ports/maybe-promise.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ActionSink, ErrorSink } from '../ports/sinks.js';
import type { SliceEngine } from '../scheduler/slice-engine.js';
import type { OutputBuffer } from './output-buffer.js';

/**
 * Output held past this many characters is flushed before the batch ends: a batch of large
 * actions goes out in parts instead of piling up in memory.
 */
const FLUSH_AT_CHARS = 4 * 1024 * 1024;

/** How much of a rejected input an error record keeps. */
const MAX_INPUT_SHOWN = 1000;
const EPOCH_ISO = new Date(0).toISOString();

const TICK: unique symbol = Symbol('tick');

/** How live mode ticks the engine. */
export interface Ticker {
  readonly clock: Clock;
  readonly intervalMs: number;
  /** Event time the input has not reached yet (a paced replay's next record): ticks close no slice past it. */
  readonly eventTimeLimit?: () => number | undefined;
}

/** Counts of what the pipeline took in. */
export interface InputCounts {
  accepted: number;
  invalid: number;
}

/**
 * Moves events from a source through the decoder into the slice engine, and what the engine
 * produces out to the sinks, one batch at a time. A record that is not a valid event becomes an
 * `invalid_event` error naming where it came from; the stream goes on.
 */
export class EventPipeline {
  readonly counts: InputCounts = { accepted: 0, invalid: 0 };
  readonly #decoder: EventDecoder;
  readonly #engine: SliceEngine;
  readonly #output: OutputBuffer;
  readonly #quietBefore: number;
  readonly #observer: RunObserver | undefined;
  #resumePosition = 0;
  #abandoned = false;
  /** Batches acknowledged only once their events' slices are committed, oldest first. */
  readonly #unacked: Array<{ readonly ack: () => MaybePromise<void>; readonly needs: Map<string, number> }> = [];
  /** Per stream, the newest position the batch being taken needs committed before its acknowledgement. */
  #needs: Map<string, number> | undefined;
  /** The sinks of the run under way, for output of calls that end between batches. */
  #sinks: { readonly actions: ActionSink; readonly errors: ErrorSink } | undefined;
  #flushScheduled = false;
  /** A flush between batches that failed: the run fails with it. */
  #flushFailure: { readonly error: unknown } | undefined;

  /**
   * @param options.quietBefore - records before this position were handled by a predecessor (a
   *   scheduler taking over): they rebuild state, and their invalid records are not reported again
   * @param options.observer - told of each accepted event
   */
  constructor(decoder: EventDecoder, engine: SliceEngine, output: OutputBuffer, options: { readonly quietBefore?: number; readonly observer?: RunObserver } = {}) {
    this.#decoder = decoder;
    this.#engine = engine;
    this.#output = output;
    this.#quietBefore = options.quietBefore ?? Number.NEGATIVE_INFINITY;
    this.#observer = options.observer;
  }

  /**
   * Stops after the current batch without closing open slices or flushing: for a distributed
   * scheduler that lost its lease, whose successor will close them.
   */
  abandon(): void {
    this.#abandoned = true;
  }

  /**
   * Output is waiting that no batch will flush soon (a call ended in the background): it goes
   * to the sinks on the next turn of the event loop, after what is already going out.
   */
  flushSoon(): void {
    if (this.#flushScheduled || this.#sinks === undefined) return;
    this.#flushScheduled = true;
    const { actions, errors } = this.#sinks;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#output.flush(actions, errors).catch((error: unknown) => {
        this.#flushFailure ??= { error };
      });
    });
  }

  /** The first input position not yet fully handled: a successor resumes reporting there. */
  get resumePosition(): number {
    return this.#resumePosition;
  }

  /**
   * Consumes the source to its end (or until `stopped()` says so after a batch), then closes
   * every open slice and flushes. With a `ticker` (live mode), the engine is ticked every
   * `intervalMs` of clock time while the source has nothing, so idle streams close slices.
   */
  async run(source: EventSource, actions: ActionSink, errors: ErrorSink, stopped: () => boolean, ticker?: Ticker): Promise<void> {
    const batches = source.batches()[Symbol.asyncIterator]();
    this.#sinks = { actions, errors };
    try {
      for (;;) {
        const next = await this.#nextBatch(batches, actions, errors, ticker);
        if (next.done) break;
        const { origin, records, ack } = next.value;
        this.#needs = ack !== undefined ? new Map() : undefined;
        for (let i = 0; i < records.length; i++) {
          this.#resumePosition = records[i]!.position;
          const done = this.#take(origin, records[i]!);
          if (done !== undefined) await done;
          if (this.#output.pendingChars > FLUSH_AT_CHARS) await this.#output.flush(actions, errors);
        }
        await this.#output.flush(actions, errors);
        if (this.#flushFailure !== undefined) throw this.#flushFailure.error;
        if (ack !== undefined) {
          this.#unacked.push({ ack: () => ack.call(next.value), needs: this.#needs! });
          await this.#ackCommitted();
        }
        if (stopped() || this.#abandoned) break;
      }
    } finally {
      await batches.return?.();
    }
    if (this.#abandoned) return;
    this.#resumePosition++;
    const finished = this.#engine.finish();
    if (finished !== undefined) await finished;
    await this.#output.flush(actions, errors);
    if (this.#flushFailure !== undefined) throw this.#flushFailure.error;
    await this.#ackCommitted();
  }

  /**
   * Acknowledges the batches whose events are all in committed slices (or were refused): a
   * process killed before a slice is committed gets its events again, so no context write of an
   * open slice is lost.
   */
  async #ackCommitted(): Promise<void> {
    for (let i = 0; i < this.#unacked.length; ) {
      const { ack, needs } = this.#unacked[i]!;
      for (const [stream, position] of needs) if (this.#engine.committedThrough(stream) >= position) needs.delete(stream);
      if (needs.size > 0) {
        i++;
        continue;
      }
      this.#unacked.splice(i, 1);
      await ack();
    }
  }

  /** The source's next batch; in live mode the engine ticks while it is awaited. */
  async #nextBatch(batches: AsyncIterator<InputBatch>, actions: ActionSink, errors: ErrorSink, ticker: Ticker | undefined): Promise<IteratorResult<InputBatch>> {
    const next = batches.next();
    if (ticker === undefined) return next;
    for (;;) {
      const first = await Promise.race([next, ticker.clock.sleep(ticker.intervalMs).then((): typeof TICK => TICK)]);
      if (first !== TICK) return first;
      await this.#engine.tick(ticker.eventTimeLimit?.());
      await this.#output.flush(actions, errors);
      await this.#ackCommitted();
    }
  }

  #take(origin: InputOrigin, record: InputRecord): Promise<void> | undefined {
    const decoded = this.#decoder.decodeRecord(record, origin);
    if ('problem' in decoded) {
      this.counts.invalid++;
      if (record.position >= this.#quietBefore) this.#reject(origin, record, decoded.problem);
      return undefined;
    }
    this.counts.accepted++;
    this.#observer?.eventAccepted?.(decoded.event);
    this.#needs?.set(decoded.event.stream_id, record.position);
    const accepted = this.#engine.accept(decoded);
    return isPromiseLike(accepted) ? accepted : undefined;
  }

  #reject(origin: InputOrigin, record: InputRecord, problem: string): void {
    const raw = record.text ?? safeJson(record.value);
    const streamId = streamIdOf(record.text !== undefined ? tryParse(record.text) : record.value);
    this.#output.error({
      // The latest event placed in a slice: deterministic, and never a refused event's bad clock.
      ts: this.#engine.lastPlacedTs ?? EPOCH_ISO,
      kind: ERROR_KIND,
      stream_id: streamId,
      payload: {
        reason: ErrorReason.InvalidEvent,
        message: problem,
        source: origin.locate(record.position, record.stream),
        input: raw.length > MAX_INPUT_SHOWN ? `${raw.slice(0, MAX_INPUT_SHOWN)}…` : raw,
      },
    });
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The stream an invalid record names, when it names a valid one: its error belongs there. */
function streamIdOf(value: unknown): string {
  const id = typeof value === 'object' && value !== null ? (value as { stream_id?: unknown }).stream_id : undefined;
  return typeof id === 'string' && STREAM_ID_PATTERN.test(id) ? id : UNKNOWN_STREAM;
}

function tryParse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
