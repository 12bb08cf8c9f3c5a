import type { ContextSnapshot, ContextWrite } from '../model/committed-context.js';
import { freezeJson } from '../model/frozen-json.js';

/** Marks a key a crew deleted, so a deletion can win a merge like any write. */
export const DELETED: unique symbol = Symbol('live-crew:deleted');

/**
 * What one crew wrote in one slice of one stream: per key, its last write. A crew's calls in a
 * slice run in arrival order and each reads the crew's earlier writes, so its last write is the
 * value its own work built up; that is what it contributes to the merge.
 */
export class CrewSliceWrites {
  readonly #latest = new Map<string, unknown>();

  /** The value the crew last wrote to `key` in this slice (`DELETED` for a deletion), if any. */
  latest(key: string): unknown {
    return this.#latest.get(key);
  }

  record(key: string, value: unknown): void {
    this.#latest.set(key, value);
  }

  /** Every key the crew wrote, with its last value. */
  entries(): IterableIterator<[string, unknown]> {
    return this.#latest.entries();
  }

  /** Its writes as they are stored or travel (a deletion is `[key]`). */
  toWire(): ContextWrite[] {
    return [...this.#latest].map(([key, value]): ContextWrite => (value === DELETED ? [key] : [key, value]));
  }

  /** Records writes that were stored or travelled, in order. */
  recordWire(writes: Iterable<ContextWrite>): void {
    // Read in from outside (a report, a backend): frozen, as the writes made here are.
    for (const [key, ...value] of writes) this.record(key, value.length === 0 ? DELETED : freezeJson(value[0]));
  }
}

/** The result of closing a slice that had writes. */
export interface MergedSlice {
  readonly snapshot: ContextSnapshot;
  /** Keys whose writes were dropped to keep the snapshot within `maxBytes`; empty when it fit. */
  readonly dropped: readonly string[];
  /** What the snapshot would have been, in JSON bytes, before any write was dropped. */
  readonly bytes: number;
  /** The snapshot's size in JSON bytes. */
  readonly size: number;
  /** The keys this slice wrote, in the order of their last merge (a `__context` record's changed and deleted keys come from them). */
  readonly written: ReadonlySet<string>;
  /** S(n-1): what the snapshot was before this slice. */
  readonly previous: ContextSnapshot;
}

/**
 * The shared context of one stream: the merged snapshot of the last closed slice and the writes
 * of the slices still open. Handlers of slice n read S(n-1) (plus their own crew's writes in n);
 * closing n merges its writes, shallow per top-level key: each crew's last write per key, crews
 * applied in run order so the later crew wins. Arrival order is input, so the result never
 * depends on timing.
 */
export class StreamContext {
  #snapshot: ContextSnapshot;
  readonly #crewCount: number;
  readonly #maxBytes: number;
  readonly #pending = new Map<number, Array<CrewSliceWrites | undefined>>();
  /** How many slices a crew may lag: merges that recent are remembered for its calls that start late. */
  readonly #keep: number;
  /** Recent merges, oldest first: the slice, the snapshot before it, and the writes it took. */
  #history: Array<{ readonly slice: number; readonly before: ContextSnapshot; readonly writes: Array<CrewSliceWrites | undefined> }> = [];

  /**
   * @param initial - the snapshot to start from (a backend's last committed one, or empty)
   * @param crewCount - how many crews write, in run order
   * @param maxBytes - the largest snapshot as JSON bytes (`context_max_bytes`)
   * @param keep - the largest lag of a crew: a lagging crew's call of slice n may start after
   *   slices n .. n + lag - 1 merged, and must still read S(n-1) and its own writes
   */
  constructor(initial: ContextSnapshot, crewCount: number, maxBytes: number, keep = 0) {
    this.#snapshot = frozenSnapshot(initial);
    this.#crewCount = crewCount;
    this.#maxBytes = maxBytes;
    this.#keep = keep;
  }

  /** S(slice - 1): the snapshot a call of `slice` reads, even when later slices have merged since. */
  snapshotBefore(slice: number): ContextSnapshot {
    for (const merge of this.#history) if (merge.slice >= slice) return merge.before;
    return this.#snapshot;
  }

  /** What crew `crewIndex` wrote that merges in slice `merge`, whether it has merged (recently) or not. */
  writesMergingIn(merge: number, crewIndex: number): CrewSliceWrites | undefined {
    const pending = this.#pending.get(merge);
    if (pending !== undefined) return pending[crewIndex];
    for (const recent of this.#history) if (recent.slice === merge) return recent.writes[crewIndex];
    return undefined;
  }

  /** The snapshot of the last closed slice. */
  get snapshot(): ContextSnapshot {
    return this.#snapshot;
  }

  /**
   * Starts again from `snapshot` (S(n-1) as merged elsewhere), keeping the writes that merge in
   * slice `from` or later: a lagging crew's own writes not merged yet.
   */
  rebase(snapshot: ContextSnapshot, from: number): void {
    this.#snapshot = frozenSnapshot(snapshot);
    for (const slice of this.#pending.keys()) if (slice < from) this.#pending.delete(slice);
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
    this.#history = this.#history.filter((merge) => merge.slice > slice - this.#keep);
    const byCrew = this.#pending.get(slice);
    if (byCrew === undefined) return undefined;
    this.#pending.delete(slice);
    const previous = this.#snapshot;
    if (this.#keep > 0) this.#history.push({ slice, before: previous, writes: byCrew });
    const next: Record<string, unknown> = { ...previous };
    // Keys in the order of their last merge: the order in which they are undone if over the cap.
    const mergeOrder = new Set<string>();
    for (const writes of byCrew) {
      if (writes === undefined) continue;
      for (const [key, value] of writes.entries()) {
        if (value === DELETED) delete next[key];
        else next[key] = value;
        mergeOrder.delete(key);
        mergeOrder.add(key);
      }
    }
    const bytes = jsonBytes(next);
    const dropped = bytes > this.#maxBytes ? this.#fit(next, previous, [...mergeOrder].reverse()) : [];
    this.#snapshot = Object.freeze(next);
    return { snapshot: this.#snapshot, dropped, bytes, size: dropped.length > 0 ? jsonBytes(next) : bytes, written: mergeOrder, previous };
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

/**
 * A snapshot from outside (a backend, a runner's base, an isolate's view), frozen all through:
 * values written in this process are frozen copies, and those read in must be too, or a crew
 * could change what another crew reads.
 */
function frozenSnapshot(snapshot: ContextSnapshot): ContextSnapshot {
  const copy = { ...snapshot };
  for (const key in copy) freezeJson(copy[key]);
  return Object.freeze(copy);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
