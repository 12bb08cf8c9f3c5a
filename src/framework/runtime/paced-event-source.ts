import type { InputRecord } from '../model/input-record.js';
import type { Clock } from '../ports/clock.js';
import type { EventSource, InputBatch } from '../ports/event-source.js';

/**
 * Replays a source at its recorded speed times `pace`: each record is released when as much
 * clock time has passed since the first as event time has between them, divided by `pace`
 * (1 = real time, 10 = ten times faster). Records older than the first, or without a readable
 * `ts`, are released at once; judging them is the decoder's job.
 */
export class PacedEventSource implements EventSource {
  readonly #inner: EventSource;
  readonly #pace: number;
  readonly #clock: Clock;
  /** The event time of the last record released, then of the one held back until it is due. */
  #reached: number | undefined;

  constructor(inner: EventSource, pace: number, clock: Clock) {
    this.#inner = inner;
    this.#pace = pace;
    this.#clock = clock;
  }

  async *batches(): AsyncGenerator<InputBatch> {
    let start: { ts: number; wall: number } | undefined;
    for await (const batch of this.#inner.batches()) {
      const { origin, records } = batch;
      let due: InputRecord[] = [];
      for (const record of records) {
        const ts = eventTimeOf(record);
        if (ts !== undefined) {
          start ??= { ts, wall: this.#clock.now() };
          const wait = start.wall + (ts - start.ts) / this.#pace - this.#clock.now();
          if (wait > 0) {
            if (due.length > 0) yield { origin, records: due };
            due = [];
            this.#reached = ts;
            await this.#clock.sleep(wait);
          }
          this.#reached = Math.max(this.#reached ?? ts, ts);
        }
        due.push(record);
      }
      // The batch is acknowledged with its last part: by then every part before it is handled.
      if (due.length > 0 || batch.ack !== undefined) yield { origin, records: due, ...(batch.ack ? { ack: () => batch.ack!() } : {}) };
    }
  }

  /**
   * The event time the replay has reached: that of the record it holds back until it is due, or
   * of the newest record it released. Live ticks close no slice past it, so a process that was
   * starved (its clock ran on, its records were not read) closes the slices a batch run would.
   * Undefined before the first record.
   */
  eventTimeReached(): number | undefined {
    return this.#reached;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** The event time of a record in ms, if it has a readable `ts`. */
function eventTimeOf(record: InputRecord): number | undefined {
  let value = record.value;
  if (record.text !== undefined) {
    try {
      value = JSON.parse(record.text);
    } catch {
      return undefined;
    }
  }
  const ts = typeof value === 'object' && value !== null ? (value as { ts?: unknown }).ts : undefined;
  const ms = typeof ts === 'string' ? Date.parse(ts) : ts instanceof Date ? ts.getTime() : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
