import type { EventEnvelope } from '../model/event.js';
import type { CrewSchedule } from './crew-schedule.js';

/** What the engine keeps of one slice of one stream; kept after closing only for dependency look-back. */
export interface SliceState {
  /** Events that arrived before the slice became runnable, in arrival order. */
  queued: EventEnvelope[] | undefined;
  /** Per crew: events of earlier slices its stride skipped, delivered when this slice opens. */
  backlog: Array<EventEnvelope[] | undefined> | undefined;
  /** Per crew: events of this slice held until it closes (offset-0 dependencies, or eager dispatch off). */
  held: Array<EventEnvelope[] | undefined> | undefined;
  /** The kinds of the slice's events, for event dependencies. */
  readonly kinds: Set<string>;
  /** Per crew: its unmet dependencies, once decided ([] = ready). */
  readonly decided: Array<readonly string[] | undefined>;
  /** Per crew that skips the slice: the events it did not process. */
  readonly skips: Map<number, EventEnvelope[]>;
  /** Crews whose wait (`timeout:<ms>`) ended before the slice closed: their calls now run at once. */
  readonly released: Set<number>;
  /** Whether any event ran in it (the summary counts such slices). */
  hadEvents: boolean;
  /** The input position of its first event: nothing before it is still open. */
  firstPosition: number;
  /** Where the engine stood just before that first event was placed: a checkpoint there resumes from it. */
  before: PlacePoint | undefined;
}

/** Where the engine stood between two events: what a successor restores to go on from there. */
export interface PlacePoint {
  /** Events accepted so far. */
  readonly accepted: number;
  readonly maxTs: number;
  readonly openFrom: number;
}

/** The slicing state of one stream. */
export interface StreamSlices {
  readonly id: string;
  /** `ts` of the first event received: slice 0 starts here. */
  readonly epoch0: number;
  /** Highest event time seen. */
  maxTs: number;
  /** `maxTs` and `openFrom` before the event being placed: where a checkpoint just before it stands. */
  maxTsBefore: number;
  openFromBefore: number;
  /** The lowest slice still open; every slice below it is closed and merged. */
  openFrom: number;
  readonly slices: Map<number, SliceState>;
  /** The state last looked up: most events fall in the same slice as the one before. */
  recent: { slice: number; state: SliceState } | undefined;
  /** Wall time when the first event arrived (live mode). */
  readonly wallStart: number;
  /** Events held by the jump guard until a later one confirms or refutes their jump. */
  suspects: EventEnvelope[] | undefined;
  /** When the stream last had an event: event time in batch mode, wall time in live mode. */
  lastSeen: number;
  /** The input position of its newest event. */
  lastPosition: number;
  /** The position of the event being placed, while it is (it is in no slice yet). */
  placing: number | undefined;
  /** Events at or before this position of a durable origin are merged already (a restart going over them). */
  readonly resumeThrough: number;
  /** Every event at or before this position is merged and committed. */
  committedThrough: number;
  /** Slices closed in the background (`SliceTarget.closesInBackground`) and not committed yet. */
  closing: number;
  /** Found idle with closes still under way: forgotten once they end, unless an event comes first. */
  forgetWhenClosed: boolean;
}

/** A stream's slicing state as it starts: from its first event, from the backend's commit, or from a checkpoint. */
export function newStream(
  id: string,
  epoch0: number,
  start: { readonly maxTs: number; readonly openFrom: number; readonly wallStart: number; readonly lastSeen: number; readonly lastPosition: number; readonly through: number },
): StreamSlices {
  return {
    id,
    epoch0,
    maxTs: start.maxTs,
    maxTsBefore: start.maxTs,
    openFromBefore: start.openFrom,
    openFrom: start.openFrom,
    slices: new Map(),
    recent: undefined,
    wallStart: start.wallStart,
    suspects: undefined,
    lastSeen: start.lastSeen,
    lastPosition: start.lastPosition,
    placing: undefined,
    resumeThrough: start.through,
    committedThrough: start.through,
    closing: 0,
    forgetWhenClosed: false,
  };
}

/** A slice's state as it is made: by its first event (at input `firstPosition`), or ahead of any (`Infinity`). */
export function newSliceState(crewCount: number, firstPosition: number, before: PlacePoint | undefined): SliceState {
  return {
    queued: undefined,
    backlog: undefined,
    held: undefined,
    kinds: new Set(),
    decided: new Array(crewCount),
    skips: new Map(),
    released: new Set(),
    hadEvents: false,
    firstPosition,
    before,
  };
}

/**
 * Makes sure slice `slice` will close, events or not: a lagging crew's writes merge there. It
 * holds no event, so it sets no input position a commit must stay behind.
 */
export function ensureSlice(stream: StreamSlices, slice: number, crewCount: number): void {
  if (!stream.slices.has(slice)) stream.slices.set(slice, newSliceState(crewCount, Number.POSITIVE_INFINITY, undefined));
}

/** Drops the state of closed slices no dependency can look back at any more. */
export function forgetBefore(stream: StreamSlices, slice: number): void {
  for (const key of stream.slices.keys()) if (key < slice) stream.slices.delete(key);
  if (stream.recent !== undefined && stream.recent.slice < slice) stream.recent = undefined;
}

/** Nothing open, held or closing: every event the stream took is merged and committed, or was refused. */
export function noteAllCommitted(stream: StreamSlices): void {
  if (stream.placing !== undefined || stream.suspects !== undefined || stream.closing > 0) return;
  for (const slice of stream.slices.keys()) if (slice >= stream.openFrom) return;
  stream.committedThrough = stream.lastPosition;
}

/**
 * Once slice n is merged, the input position at or before which every event of the stream is
 * merged (or refused): just before the first event of a slice still open or held apart.
 */
export function mergedThrough(stream: StreamSlices, slice: number): number {
  let first = Number.POSITIVE_INFINITY;
  for (const [key, state] of stream.slices) if (key > slice && state.firstPosition < first) first = state.firstPosition;
  for (const suspect of stream.suspects ?? []) if (suspect.position < first) first = suspect.position;
  if (stream.placing !== undefined && stream.placing < first) first = stream.placing;
  return first === Number.POSITIVE_INFINITY ? stream.lastPosition : first - 1;
}

/** Adds an event to a crew's list in a per-crew table, creating what is missing. */
export function hold(table: Array<EventEnvelope[] | undefined> | undefined, crews: number, crew: CrewSchedule, envelope: EventEnvelope): Array<EventEnvelope[] | undefined> {
  const lists = table ?? new Array<EventEnvelope[] | undefined>(crews);
  (lists[crew.index] ??= []).push(envelope);
  return lists;
}

/** Removes and returns a crew's list from a per-crew table. */
export function take(table: Array<EventEnvelope[] | undefined> | undefined, crew: CrewSchedule): EventEnvelope[] {
  const list = table?.[crew.index] ?? [];
  if (table !== undefined) table[crew.index] = undefined;
  return list;
}
