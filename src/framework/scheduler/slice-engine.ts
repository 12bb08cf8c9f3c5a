import type { EventEnvelope } from '../model/event.js';
import type { MaybePromise } from '../ports.js';
import { andThen, runInOrder } from '../maybe-async.js';

export type { EventEnvelope };

/** What the engine drives: the crew runtime, or a test double. */
export interface SliceTarget {
  /** A stream's first event arrived; resolves when the stream's context is ready. */
  openStream(streamId: string): MaybePromise<void>;
  /** Runs the handlers an event triggers, in slice `slice`, whose inputs are now decided. */
  dispatch(streamId: string, slice: number, envelope: EventEnvelope): MaybePromise<void>;
  /**
   * Slice `slice` of a stream is closed: no more events will be dispatched into it. `endMs` is
   * its end in event time, the deterministic time of anything the close reports.
   */
  closeSlice(streamId: string, slice: number, endMs: number): MaybePromise<void>;
  /** An event arrived for a slice already closed. */
  late(envelope: EventEnvelope, slice: number, openFrom: number): void;
}

/** The knobs of slicing. */
export interface SliceTiming {
  readonly sliceMs: number;
  readonly latenessMs: number;
}

/** The slicing state of one stream. */
interface StreamSlices {
  readonly id: string;
  /** `ts` of the first event received: slice 0 starts here. */
  readonly epoch0: number;
  /** Highest event time seen. */
  maxTs: number;
  /** The lowest slice still open; every slice below it is closed and merged. */
  openFrom: number;
  /** Slices at or above `openFrom` that have had events dispatched, ascending. */
  active: number[];
  /** Events of slices above `openFrom`, waiting for the slices below them to close. */
  readonly queued: Map<number, EventEnvelope[]>;
}

/**
 * The in-process slice engine (DESIGN §4): bins events into slices per stream, advances each
 * stream's watermark (highest event time minus lateness), closes the slices it passes, and
 * decides when a handler call may run.
 *
 * A call for slice n needs S(n-1), so it may run once every slice below n is closed. Events of
 * the lowest open slice therefore run the moment they arrive (eager dispatch); events further
 * ahead, which only lateness allows, wait in a queue until the slices below them close. Empty
 * slices cost nothing: closing jumps from one slice with events to the next.
 *
 * The engine is pure: it knows no crews, clocks or I/O, only the `SliceTarget` it drives. Calls
 * are sequential: the caller waits for a returned promise before passing the next event.
 */
export class SliceEngine {
  readonly #timing: SliceTiming;
  readonly #target: SliceTarget;
  readonly #streams = new Map<string, StreamSlices>();
  #slicesClosed = 0;

  constructor(timing: SliceTiming, target: SliceTarget) {
    this.#timing = timing;
    this.#target = target;
  }

  /** Slices closed so far, across streams, counting only slices that had events. */
  get slicesClosed(): number {
    return this.#slicesClosed;
  }

  /** Takes the next event in arrival order. */
  accept(envelope: EventEnvelope): MaybePromise<void> {
    const streamId = envelope.event.stream_id;
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return this.#openStream(streamId, envelope);
    return this.#place(stream, envelope);
  }

  /** The input ended: every open slice closes, queued events run first. */
  finish(): MaybePromise<void> {
    const streams = [...this.#streams.values()];
    return runInOrder(streams.length, (i) => this.#advance(streams[i]!, Number.POSITIVE_INFINITY));
  }

  #openStream(streamId: string, envelope: EventEnvelope): MaybePromise<void> {
    const { sliceMs, latenessMs } = this.#timing;
    const stream: StreamSlices = {
      id: streamId,
      epoch0: envelope.tsMs,
      maxTs: envelope.tsMs,
      // Lateness keeps the slices just before epoch0 open for stragglers.
      openFrom: Math.floor(-latenessMs / sliceMs),
      active: [],
      queued: new Map(),
    };
    this.#streams.set(streamId, stream);
    return andThen(this.#target.openStream(streamId), () => this.#place(stream, envelope));
  }

  #place(stream: StreamSlices, envelope: EventEnvelope): MaybePromise<void> {
    const { sliceMs, latenessMs } = this.#timing;
    const slice = Math.floor((envelope.tsMs - stream.epoch0) / sliceMs);
    if (slice < stream.openFrom) {
      this.#target.late(envelope, slice, stream.openFrom);
      return;
    }
    if (envelope.tsMs > stream.maxTs) {
      stream.maxTs = envelope.tsMs;
      const watermarkSlice = Math.floor((stream.maxTs - latenessMs - stream.epoch0) / sliceMs);
      if (watermarkSlice > stream.openFrom) {
        return andThen(this.#advance(stream, watermarkSlice), () => this.#run(stream, slice, envelope));
      }
    }
    return this.#run(stream, slice, envelope);
  }

  /** Dispatches now if the slice is the lowest open one, else queues. */
  #run(stream: StreamSlices, slice: number, envelope: EventEnvelope): MaybePromise<void> {
    if (slice === stream.openFrom) {
      this.#markActive(stream, slice);
      return this.#target.dispatch(stream.id, slice, envelope);
    }
    const queue = stream.queued.get(slice);
    if (queue === undefined) stream.queued.set(slice, [envelope]);
    else queue.push(envelope);
  }

  /** Closes every slice below `openFrom`, in order, running queued events as their turn comes. */
  #advance(stream: StreamSlices, openFrom: number): MaybePromise<void> {
    const closing = [...stream.active];
    for (const slice of stream.queued.keys()) {
      if (slice < openFrom && !closing.includes(slice)) closing.push(slice);
    }
    closing.sort((a, b) => a - b);
    const stillOpen = stream.active.filter((slice) => slice >= openFrom);
    const closed = closing.filter((slice) => slice < openFrom);
    return andThen(
      runInOrder(closed.length, (i) => this.#closeOne(stream, closed[i]!)),
      () => {
        stream.active = stillOpen;
        stream.openFrom = openFrom;
        return this.#drainQueue(stream, openFrom);
      },
    );
  }

  #closeOne(stream: StreamSlices, slice: number): MaybePromise<void> {
    return andThen(this.#drainQueue(stream, slice), () => {
      this.#slicesClosed++;
      return this.#target.closeSlice(stream.id, slice, stream.epoch0 + (slice + 1) * this.#timing.sliceMs);
    });
  }

  /** Dispatches the queued events of `slice`, which has just become the lowest open slice. */
  #drainQueue(stream: StreamSlices, slice: number): MaybePromise<void> {
    const queue = stream.queued.get(slice);
    if (queue === undefined) return;
    stream.queued.delete(slice);
    this.#markActive(stream, slice);
    return runInOrder(queue.length, (i) => this.#target.dispatch(stream.id, slice, queue[i]!));
  }

  #markActive(stream: StreamSlices, slice: number): void {
    const active = stream.active;
    if (active.length === 0 || active[active.length - 1]! < slice) active.push(slice);
    else if (!active.includes(slice)) {
      active.push(slice);
      active.sort((a, b) => a - b);
    }
  }
}
