import type { ContextSnapshot } from '../ports.js';

/** Marks a key a crew deleted, so a deletion can win a merge like any write. */
export const DELETED: unique symbol = Symbol('live-crew:deleted');

/** One key's writes by one crew in one slice. */
interface KeyWrites {
  /** The value the crew wrote last, in call order: what its own later calls read. */
  latest: unknown;
  /** The write that wins the merge: the one of the latest event time, then arrival. */
  winning: unknown;
  winningTsMs: number;
}

/** What one crew wrote in one slice of one stream. */
export class CrewSliceWrites {
  readonly #keys = new Map<string, KeyWrites>();

  /** The value the crew last wrote to `key` in this slice (`DELETED` for a deletion), if any. */
  latest(key: string): unknown {
    return this.#keys.get(key)?.latest;
  }

  record(key: string, value: unknown, tsMs: number): void {
    const current = this.#keys.get(key);
    if (current === undefined) {
      this.#keys.set(key, { latest: value, winning: value, winningTsMs: tsMs });
      return;
    }
    current.latest = value;
    // Arrival breaks ties: a later write at the same event time wins.
    if (tsMs >= current.winningTsMs) {
      current.winning = value;
      current.winningTsMs = tsMs;
    }
  }

  /** Every key with the value the crew last wrote (its own view). */
  *latestEntries(): IterableIterator<[string, unknown]> {
    for (const [key, writes] of this.#keys) yield [key, writes.latest];
  }

  /** Every key with the value that wins the merge. */
  *winningEntries(): IterableIterator<[string, unknown]> {
    for (const [key, writes] of this.#keys) yield [key, writes.winning];
  }
}

/** The result of closing a slice that had writes. */
export interface MergedSlice {
  readonly snapshot: ContextSnapshot;
  /** Keys whose value differs from the previous snapshot. */
  readonly changed: readonly string[];
  /** Keys whose writes were dropped to keep the snapshot within `maxBytes`; empty when it fit. */
  readonly dropped: readonly string[];
  /** What the snapshot would have been, in JSON bytes, before any write was dropped. */
  readonly bytes: number;
}

/**
 * The shared context of one stream: the merged snapshot of the last closed slice and the writes
 * of the slices still open. Handlers of slice n read S(n-1) (plus their own crew's writes in n);
 * closing n merges its writes, shallow per top-level key, last writer wins in crew run order,
 * then event time, then arrival (DESIGN §4), so the result never depends on timing.
 */
export class StreamContext {
  #snapshot: ContextSnapshot;
  readonly #crewCount: number;
  readonly #maxBytes: number;
  readonly #pending = new Map<number, Array<CrewSliceWrites | undefined>>();

  /**
   * @param initial - the snapshot to start from (a backend's last committed one, or empty)
   * @param crewCount - how many crews write, in run order
   * @param maxBytes - the largest snapshot as JSON bytes (`context_max_bytes`)
   */
  constructor(initial: ContextSnapshot, crewCount: number, maxBytes: number) {
    this.#snapshot = Object.freeze({ ...initial });
    this.#crewCount = crewCount;
    this.#maxBytes = maxBytes;
  }

  /** The snapshot of the last closed slice. */
  get snapshot(): ContextSnapshot {
    return this.#snapshot;
  }

  /** The writes of crew `crewIndex` (its run-order position) in `slice`, if it made any. */
  peekWrites(slice: number, crewIndex: number): CrewSliceWrites | undefined {
    return this.#pending.get(slice)?.[crewIndex];
  }

  /** The writes of crew `crewIndex` in `slice`, created on first use. */
  writesOf(slice: number, crewIndex: number): CrewSliceWrites {
    let byCrew = this.#pending.get(slice);
    if (byCrew === undefined) {
      byCrew = new Array<CrewSliceWrites | undefined>(this.#crewCount);
      this.#pending.set(slice, byCrew);
    }
    return (byCrew[crewIndex] ??= new CrewSliceWrites());
  }

  /**
   * Merges the writes of `slice` into the snapshot; undefined when it had none. A snapshot over
   * `maxBytes` is cut deterministically: this slice's writes are undone, the last merged first,
   * until it fits, and the keys are reported in `dropped`.
   */
  close(slice: number): MergedSlice | undefined {
    const byCrew = this.#pending.get(slice);
    if (byCrew === undefined) return undefined;
    this.#pending.delete(slice);
    const previous = this.#snapshot;
    const next: Record<string, unknown> = { ...previous };
    // Keys in the order of their last merge: the order in which they are undone if over the cap.
    const mergeOrder = new Set<string>();
    for (const writes of byCrew) {
      if (writes === undefined) continue;
      for (const [key, value] of writes.winningEntries()) {
        if (value === DELETED) delete next[key];
        else next[key] = value;
        mergeOrder.delete(key);
        mergeOrder.add(key);
      }
    }
    const bytes = jsonBytes(next);
    const dropped = bytes > this.#maxBytes ? this.#fit(next, previous, [...mergeOrder].reverse()) : [];
    this.#snapshot = Object.freeze(next);
    const changed = [...mergeOrder].filter((key) => next[key] !== previous[key]);
    return { snapshot: this.#snapshot, changed, dropped, bytes };
  }

  /** Undoes writes (then, if the start was already over, drops keys by name) until `next` fits. */
  #fit(next: Record<string, unknown>, previous: ContextSnapshot, undoOrder: readonly string[]): string[] {
    const dropped: string[] = [];
    for (const key of undoOrder) {
      if (key in previous) next[key] = previous[key];
      else delete next[key];
      dropped.push(key);
      if (jsonBytes(next) <= this.#maxBytes) return dropped;
    }
    for (const key of Object.keys(next).sort().reverse()) {
      delete next[key];
      dropped.push(key);
      if (jsonBytes(next) <= this.#maxBytes) break;
    }
    return dropped;
  }
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
