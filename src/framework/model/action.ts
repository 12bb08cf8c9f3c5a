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
 * `payloadJson` is the payload already serialised (the emitter measured it).
 */
export function encodeAction(action: Action, payloadJson: string): string {
  // Every field is encoded as JSON, checked or not: no value can end a string early or add a key.
  return `{"ts":${JSON.stringify(action.ts)},"kind":${JSON.stringify(action.kind)},"stream_id":${JSON.stringify(action.stream_id)},"payload":${payloadJson},"ttl_ms":${JSON.stringify(action.ttl_ms)}}`;
}
