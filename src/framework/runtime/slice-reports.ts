import { messages } from '../messages.js';
import { locateEnvelope, type EventEnvelope } from '../model/event.js';
import { ERROR_KIND, ErrorReason, type ErrorRecord } from '../model/error-record.js';
import { canonicalUtc } from '../model/timestamp.js';
import type { CrewSliceDone } from '../runner-protocol.js';

/**
 * The error records the slicing itself produces (not a handler): one function per kind, so the
 * in-process runner and the distributed scheduler report them identically.
 */

/** An event arrived for slice `slice`, already closed (`openFrom` is the lowest open one). */
export function lateEventRecord(envelope: EventEnvelope, slice: number, openFrom: number): ErrorRecord {
  return {
    ts: envelope.event.ts,
    kind: ERROR_KIND,
    stream_id: envelope.event.stream_id,
    payload: {
      reason: ErrorReason.LateEvent,
      message: messages.lateEvent(slice, openFrom),
      slice,
      source: locateEnvelope(envelope),
      event: envelope.event,
    },
  };
}

/** An event a timestamp guard refused: an `invalid_event` naming why, with the event attached, at `ts`. */
export function refusedEventRecord(envelope: EventEnvelope, message: string, ts: string): ErrorRecord {
  return {
    ts,
    kind: ERROR_KIND,
    stream_id: envelope.event.stream_id,
    payload: { reason: ErrorReason.InvalidEvent, message, source: locateEnvelope(envelope), event: envelope.event },
  };
}

/** Crew `crewId` skipped a slice: `unmet` names its unmet dependencies; `events` went unprocessed. */
export function dependencyUnmetRecord(streamId: string, slice: number, crewId: string, unmet: readonly string[], events: readonly EventEnvelope[]): ErrorRecord {
  const first = events[0]!;
  return {
    ts: first.event.ts,
    kind: ERROR_KIND,
    stream_id: streamId,
    payload: {
      reason: ErrorReason.DependencyUnmet,
      message: messages.dependencyUnmet(crewId, slice, unmet, events.length),
      crew: crewId,
      slice,
      source: locateEnvelope(first),
      event: first.event,
    },
  };
}

/** The merge of a slice ending at `endMs` went over the cap: `dropped` keys were cut. */
export function contextTruncatedRecord(streamId: string, slice: number, endMs: number, merged: { readonly bytes: number; readonly dropped: readonly string[] }, maxBytes: number): ErrorRecord {
  return {
    ts: canonicalUtc(endMs),
    kind: ERROR_KIND,
    stream_id: streamId,
    payload: { reason: ErrorReason.CtxSize, message: messages.contextTruncated(merged.bytes, maxBytes, merged.dropped), slice },
  };
}

/** Crew `done.crew`'s report of its slice was refused on the wire (`done.refused`): the slice merging it, ending at `endMs`, took none of it. */
export function badReportRecord(done: CrewSliceDone & { readonly refused: NonNullable<CrewSliceDone['refused']> }, endMs: number): ErrorRecord {
  const { crew, slice, refused } = done;
  return {
    ts: canonicalUtc(endMs),
    kind: ERROR_KIND,
    stream_id: done.streamId,
    payload: { reason: ErrorReason.BadReport, message: messages.badReport(crew, slice, refused.sender, refused.problem), crew, slice, source: refused.source },
  };
}
