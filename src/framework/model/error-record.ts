import type { Event } from './event.js';

/** Why an `__error` record was published (DESIGN §3). */
export const ErrorReason = {
  InvalidEvent: 'invalid_event',
  LateEvent: 'late_event',
  HandlerError: 'handler_error',
  Timeout: 'timeout',
  Disabled: 'disabled',
  CtxSize: 'ctx_size',
  DependencyUnmet: 'dependency_unmet',
  /** A model call over the crew's `maxTokensPerSlice` or `maxCallsPerMinute`: its handler call fails. */
  Budget: 'budget',
  /** A replayed model call whose request differs from the recorded one, or that the journal lacks. */
  ReplayDivergence: 'replay_divergence',
  /** A crew's slice report on the wire that was not one live-crew writes: the slice merged none of its writes. */
  BadReport: 'bad_report',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** The kind every error record carries. */
export const ERROR_KIND = '__error';

/** Details of an error record. Optional fields are present only where they apply. */
export interface ErrorDetails {
  readonly reason: ErrorReason;
  /** What went wrong, for a person. */
  readonly message: string;
  /** The crew involved, if any. */
  readonly crew?: string;
  /** The slice involved, if known. */
  readonly slice?: number;
  /** Where the input came from: `events.jsonl:17`, `stdin:3`, `input[4]`. */
  readonly source?: string;
  /** The rejected event, when it was well-formed (late events, payloads a handler refused). */
  readonly event?: Event;
  /** The rejected input as received, cut to 1000 characters, when it was not a valid event. */
  readonly input?: string;
}

/**
 * An `__error` record: everything that went wrong, in one shape, published to the error sink so
 * nothing is dropped silently.
 */
export interface ErrorRecord {
  readonly ts: string;
  readonly kind: typeof ERROR_KIND;
  readonly stream_id: string;
  readonly payload: ErrorDetails;
}

/** The stream id of errors whose input named no valid stream. */
export const UNKNOWN_STREAM = '_unknown';

/** The JSON line of an error record, keys in a fixed order. */
export function encodeErrorRecord(record: ErrorRecord): string {
  const p = record.payload;
  return JSON.stringify({
    ts: record.ts,
    kind: record.kind,
    stream_id: record.stream_id,
    payload: {
      reason: p.reason,
      message: p.message,
      crew: p.crew,
      slice: p.slice,
      source: p.source,
      event: p.event,
      input: p.input,
    },
  });
}
