import type { ContextSnapshot } from './committed-context.js';

/** The kind of a context record: reserved, as every kind starting with `__` is. */
export const CONTEXT_KIND = '__context';

/**
 * What a stream's context became when a slice merged (`__context`, the original spec's §2.5): the
 * whole snapshot S(n), and which keys that slice set and deleted, stamped with the slice's end in
 * event time, so a re-run gives the same bytes. Published on `live.<stream>.ctx` over NATS, and
 * to `context_out` (`--context-out`) in file mode, for viewers and other services.
 */
export interface ContextRecord {
  readonly ts: string;
  readonly kind: typeof CONTEXT_KIND;
  readonly stream_id: string;
  readonly payload: {
    readonly slice: number;
    readonly context: ContextSnapshot;
    /** Keys the slice wrote (and kept: a write dropped by the size cap is not here). */
    readonly changed: readonly string[];
    readonly deleted: readonly string[];
  };
}

/** What a merge made of a stream's context: the snapshot before and after, the keys written, those dropped by the size cap. */
export interface ContextChange {
  readonly previous: ContextSnapshot;
  readonly snapshot: ContextSnapshot;
  readonly written: ReadonlySet<string>;
  readonly dropped: readonly string[];
}

/**
 * The record of slice `slice` of a stream merging (`endMs`: the slice's end in event time), or
 * undefined when it changed nothing: its crews wrote nothing that was kept (a distributed crew's
 * report may be empty). Derived only where records are sent: the merge itself pays nothing.
 */
export function contextRecordOf(streamId: string, slice: number, endMs: number, change: ContextChange): ContextRecord | undefined {
  const changed: string[] = [];
  const deleted: string[] = [];
  for (const key of change.written) {
    if (change.dropped.includes(key)) continue;
    if (key in change.snapshot) changed.push(key);
    else if (key in change.previous) deleted.push(key);
  }
  if (changed.length === 0 && deleted.length === 0) return undefined;
  return { ts: new Date(endMs).toISOString(), kind: CONTEXT_KIND, stream_id: streamId, payload: { slice, context: change.snapshot, changed, deleted } };
}

/** A context record as one JSON line, keys in a fixed order. */
export function encodeContextRecord(record: ContextRecord): string {
  const { slice, context, changed, deleted } = record.payload;
  return JSON.stringify({ ts: record.ts, kind: record.kind, stream_id: record.stream_id, payload: { slice, context, changed, deleted } });
}
