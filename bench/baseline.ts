/**
 * The hand-written loop the framework is measured against: the same work as the three bench
 * crews (parse, validate, bin, count, context read + write with merge at slice close, an action
 * serialised to JSON), with no framework.
 */

const KIND = /^[a-zA-Z0-9_]{1,50}$/;
const STREAM = /^[a-zA-Z0-9_-]{1,100}$/;
const SLICE_MS = 500;

interface StreamState {
  epoch0: number;
  slice: number;
  snapshot: Record<string, unknown>;
  pending: Map<string, unknown>;
}

/**
 * The work for one event, by hand. With `withDependency`, the action also carries the total as
 * of the previous slice, as the dependent bench crew's does.
 */
export class BaselineProcessor {
  readonly #withDependency: boolean;
  readonly #streams = new Map<string, StreamState>();
  readonly #counts = new Map<string, number>();

  constructor(withDependency = false) {
    this.#withDependency = withDependency;
  }

  /** The action JSON for one input line; undefined for a line that is not a valid event. */
  take(line: string): string | undefined {
    const v = JSON.parse(line) as { ts?: unknown; kind?: unknown; stream_id?: unknown; payload?: { v: number } };
    if (typeof v !== 'object' || v === null) return undefined;
    const { ts, kind, stream_id: streamId, payload } = v;
    if (typeof kind !== 'string' || !KIND.test(kind) || kind.startsWith('__')) return undefined;
    if (typeof streamId !== 'string' || !STREAM.test(streamId) || typeof ts !== 'string') return undefined;
    const tsMs = Date.parse(ts);
    if (Number.isNaN(tsMs) || payload === undefined) return undefined;

    let stream = this.#streams.get(streamId);
    if (stream === undefined) {
      stream = { epoch0: tsMs, slice: 0, snapshot: {}, pending: new Map() };
      this.#streams.set(streamId, stream);
    }
    const slice = Math.floor((tsMs - stream.epoch0) / SLICE_MS);
    if (slice > stream.slice) {
      if (stream.pending.size > 0) {
        stream.snapshot = Object.freeze({ ...stream.snapshot, ...Object.fromEntries(stream.pending) });
        stream.pending.clear();
      }
      stream.slice = slice;
    }

    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    const total = (stream.pending.get('total') ?? stream.snapshot['total'] ?? 0) as number;
    stream.pending.set('total', total + payload.v);
    const out = this.#withDependency ? { v: payload.v, total: (stream.snapshot['total'] as number | undefined) ?? 0 } : { v: payload.v };
    return `{"ts":"${ts}","kind":"seen","stream_id":"${streamId}","payload":${JSON.stringify(out)},"ttl_ms":5000}`;
  }
}

/** Runs the loop over lines; returns counts so no work can be optimised away. */
export function runBaseline(lines: readonly string[], withDependency = false): { events: number; actions: number; bytes: number } {
  const processor = new BaselineProcessor(withDependency);
  let actions = 0;
  let bytes = 0;
  for (const line of lines) {
    const json = processor.take(line);
    if (json === undefined) continue;
    bytes += json.length;
    actions++;
  }
  return { events: actions, actions, bytes };
}
