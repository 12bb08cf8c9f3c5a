import { z } from 'zod';
import { KindSchema, StreamIdSchema } from './event.js';

/** Default and bounds of an action's time-to-live (DESIGN §3). */
export const ACTION_TTL = { default: 5_000, min: 1, max: 300_000 } as const;

/**
 * An output of a crew: something to do or show, derived from an event.
 *
 * @typeParam P - the payload type.
 */
export interface Action<P = unknown> {
  /** The `ts` of the event whose handler emitted it, never the wall clock, so replays are byte-identical. */
  readonly ts: string;
  readonly kind: string;
  readonly stream_id: string;
  readonly payload: P;
  /** How long the action stays relevant, in ms (1..300000, default 5000). */
  readonly ttl_ms: number;
}

/** The schema of an action line, for consumers that read live-crew output. */
export const ActionSchema = z.strictObject({
  ts: z.iso.datetime({ offset: true }),
  kind: KindSchema,
  stream_id: StreamIdSchema,
  payload: z.json(),
  ttl_ms: z.number().int().min(ACTION_TTL.min).max(ACTION_TTL.max),
});

/**
 * The JSON line of an action, keys in the fixed order `ts, kind, stream_id, payload, ttl_ms`.
 * `payloadJson` is the payload already serialised (the emitter measured it). Every field is
 * encoded as JSON, so no value can end a string early or add a key.
 */
export function encodeAction(action: Action, payloadJson: string): string {
  const ttl = Number.isInteger(action.ttl_ms) ? String(action.ttl_ms) : JSON.stringify(action.ttl_ms);
  return `{"ts":${jsonString(action.ts)},"kind":${jsonString(action.kind)},"stream_id":${jsonString(action.stream_id)},"payload":${payloadJson},"ttl_ms":${ttl}}`;
}

/** The end of a line with the default time-to-live. */
const DEFAULT_TTL_TAIL = `,"ttl_ms":${ACTION_TTL.default}}`;
/** The most kinds a stream keeps the middle of its lines for. */
const MAX_KINDS = 10_000;

/**
 * The action lines of one stream, as `encodeAction` writes them, for fields the caller vouches
 * for: `ts` and `kind` match their patterns (which need no escaping) and `ttlMs` is an integer,
 * as `ctx.emit` checks them for a frozen event's fields. The part between `ts` and the payload is
 * made once per kind: a line is then four string joins, not ten, and V8 makes an object for each.
 */
export class StreamActionLines {
  readonly #streamId: string;
  readonly #middles = new Map<string, string>();

  /** @param streamId - the stream's id, checked against its pattern when its event was decoded */
  constructor(streamId: string) {
    this.#streamId = streamId;
  }

  line(ts: string, kind: string, payloadJson: string, ttlMs: number): string {
    let middle = this.#middles.get(kind);
    if (middle === undefined) {
      middle = `","kind":"${kind}","stream_id":"${this.#streamId}","payload":`;
      if (this.#middles.size < MAX_KINDS) this.#middles.set(kind, middle);
    }
    return `{"ts":"${ts}${middle}${payloadJson}${ttlMs === ACTION_TTL.default ? DEFAULT_TTL_TAIL : `,"ttl_ms":${ttlMs}}`}`;
  }
}

/** A string as JSON: quoted as it is when nothing in it needs escaping (the hot path: ts, kinds, stream ids), else by JSON.stringify. */
function jsonString(text: string): string {
  if (typeof text !== 'string') return JSON.stringify(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A quote, a backslash, a control character or a surrogate (a lone one is escaped) needs JSON.stringify.
    if (c === 34 || c === 92 || c < 32 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}
