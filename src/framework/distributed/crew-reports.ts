import type { Clock } from '../ports/clock.js';
import type { CrewSliceDone, WantedReport } from '../runner-protocol.js';

/** Told every `afterMs` of `clock`, while a wait lasts, which reports it still misses. */
export interface StallWatch {
  readonly clock: Clock;
  readonly afterMs: number;
  readonly stalled: (missing: readonly WantedReport[], waitedMs: number) => void;
}

/** A report kept until its merge, with its place in the order reports were published. */
interface KeptReport {
  readonly done: CrewSliceDone;
  readonly seq: number;
}

/**
 * Crews' slice reports as they arrive, kept until a merge takes them: what the scheduler and
 * every runner merge slices from (DESIGN §5). The first report of a crew's slice counts; a
 * re-published one is the same report.
 */
export class CrewReports {
  readonly #reports = new Map<string, KeptReport>();
  readonly #waiting = new Map<string, Array<{ readonly resolve: (done: CrewSliceDone) => void; readonly reject: (error: Error) => void }>>();
  #cancelled: Error | undefined;
  /** The sequence of the last report received from the published order. */
  #lastSeq = 0;

  /**
   * Keeps a report; `seq` is its place in the published order, absent for one this process made
   * (it is read back later with its sequence). False when the report was kept already.
   */
  put(done: CrewSliceDone, seq?: number): boolean {
    if (seq !== undefined) this.#lastSeq = Math.max(this.#lastSeq, seq);
    const key = reportKey(done.streamId, done.slice, done.crew);
    if (this.#reports.has(key)) return false;
    this.#reports.set(key, { done, seq: seq ?? Number.POSITIVE_INFINITY });
    const waiting = this.#waiting.get(key);
    this.#waiting.delete(key);
    for (const waiter of waiting ?? []) waiter.resolve(done);
    return true;
  }

  /** A report not kept (one of a slice merged already) was read at `seq`. */
  passed(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  get(streamId: string, slice: number, crew: string): CrewSliceDone | undefined {
    return this.#reports.get(reportKey(streamId, slice, crew))?.done;
  }

  /** Resolves with the crew's report of the slice once it is here; rejects once `cancel` is called. */
  wait(streamId: string, slice: number, crew: string): Promise<CrewSliceDone> {
    const kept = this.get(streamId, slice, crew);
    if (kept !== undefined) return Promise.resolve(kept);
    if (this.#cancelled !== undefined) return Promise.reject(this.#cancelled);
    const key = reportKey(streamId, slice, crew);
    return new Promise((resolve, reject) => {
      const waiting = this.#waiting.get(key);
      if (waiting === undefined) this.#waiting.set(key, [{ resolve, reject }]);
      else waiting.push({ resolve, reject });
    });
  }

  /** Resolves with the reports `wanted` once all are here, in that order; `watch` hears of a wait that lasts. */
  async waitAll(streamId: string, wanted: readonly WantedReport[], watch?: StallWatch): Promise<CrewSliceDone[]> {
    const waits = Promise.all(wanted.map(([crew, slice]) => this.wait(streamId, slice, crew)));
    const missing = () => wanted.filter(([crew, slice]) => this.get(streamId, slice, crew) === undefined);
    if (watch === undefined || missing().length === 0) return waits;
    const stop = new AbortController();
    const watching = (async () => {
      const started = watch.clock.now();
      for (;;) {
        await watch.clock.sleep(watch.afterMs, stop.signal);
        if (stop.signal.aborted) return;
        const still = missing();
        if (still.length > 0) watch.stalled(still, watch.clock.now() - started);
      }
    })();
    try {
      return await waits;
    } finally {
      stop.abort();
      await watching;
    }
  }

  /** The sequence of the last report read (0: none yet): how far a stalled wait has looked. */
  get readTo(): number {
    return this.#lastSeq;
  }

  /** How many reports are kept. */
  get size(): number {
    return this.#reports.size;
  }

  /** Whether a wait for a report is under way. */
  get waiting(): boolean {
    return this.#waiting.size > 0;
  }

  /** Forgets the reports `merged` says were merged (or will never be needed). */
  forget(merged: (done: CrewSliceDone) => boolean): void {
    for (const [key, { done }] of this.#reports) if (merged(done)) this.#reports.delete(key);
  }

  /** The first report sequence still needed: the oldest kept report's, or the one after the last received. */
  get firstSeq(): number {
    let first = this.#lastSeq + 1;
    for (const { seq } of this.#reports.values()) if (seq < first) first = seq;
    return first;
  }

  /** Nothing more will arrive: every wait, now and later, rejects with `reason`. */
  cancel(reason: Error): void {
    this.#cancelled = reason;
    for (const waiting of this.#waiting.values()) for (const { reject } of waiting) reject(reason);
    this.#waiting.clear();
  }
}

function reportKey(streamId: string, slice: number, crew: string): string {
  return `${streamId}:${slice}:${crew}`;
}
