import type { StreamSlices } from './stream-slices.js';

/**
 * Finds the streams idle past `stream_idle_ms`, so the engine closes their slices and forgets
 * them: by event time in batch mode (against the newest event of any stream), by wall time in
 * live mode. Looks at most every quarter of the idle time.
 */
export class IdleStreams {
  readonly #idleMs: number;
  /** When idle streams are next looked for (event time in batch mode, wall time in live mode). */
  #sweepAt = Number.NEGATIVE_INFINITY;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** Batch mode: whether a look is due at event time `newestTs`. */
  dueAt(time: number): boolean {
    return time >= this.#sweepAt;
  }

  /** Batch mode: the streams with no event for the idle time before `newestTs` that `mayForget` lets go. */
  byEventTime(streams: Iterable<StreamSlices>, newestTs: number, mayForget: (stream: StreamSlices) => boolean): StreamSlices[] {
    this.#sweepAt = newestTs + this.#idleMs / 4;
    return [...streams].filter((stream) => newestTs - stream.lastSeen >= this.#idleMs && mayForget(stream));
  }

  /** Live mode: the streams idle for the idle time of wall time, every slice closed, that `mayForget` lets go now. */
  byWallTime(streams: Iterable<StreamSlices>, now: number, mayForget: (stream: StreamSlices) => boolean): string[] {
    if (now < this.#sweepAt) return [];
    this.#sweepAt = now + this.#idleMs / 4;
    const idle: string[] = [];
    for (const stream of streams) {
      const allClosed = [...stream.slices.keys()].every((slice) => slice < stream.openFrom);
      if (now - stream.lastSeen >= this.#idleMs && allClosed && mayForget(stream)) idle.push(stream.id);
    }
    return idle;
  }
}
