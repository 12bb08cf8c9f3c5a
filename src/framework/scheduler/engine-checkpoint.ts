import { z } from 'zod';
import type { CrewSchedule } from './crew-schedule.js';
import { ensureSlice, newSliceState, newStream, type PlacePoint, type StreamSlices } from './stream-slices.js';

/**
 * The engine's state after slice `slice` of a stream closed, as a successor needs it to go on
 * from input position `position + 1` instead of from the first event (`SliceEngine.restore`):
 * JSON, kept by a distributed scheduler in KV. For a source that holds one stream.
 */
export const EngineCheckpointSchema = z.object({
  streamId: z.string(),
  epoch0: z.number(),
  /** Every slice up to this one is closed. */
  slice: z.number().int(),
  /** Every event at or before this input position is in a closed slice, or was refused. */
  position: z.number().int(),
  /** How many events were accepted up to `position`: where the journal's decisions after it are. */
  accepted: z.number().int().min(0),
  /** The stream's newest event time, and its lowest open slice, after the event at `position`. */
  maxTs: z.number(),
  openFrom: z.number().int(),
  /** The closed slices a dependency may still look back at: their event kinds, and the crews (ids) that skipped them. */
  lookBack: z.array(z.object({ slice: z.number().int(), kinds: z.array(z.string()), skipped: z.array(z.string()) })),
  /** Later slices that must close though no event may come for them: a lagging crew's writes merge there. */
  mergesAhead: z.array(z.number().int()).optional(),
});

/** See `EngineCheckpointSchema`. */
export type EngineCheckpoint = z.infer<typeof EngineCheckpointSchema>;

/**
 * The engine's state once slice `slice` of `stream` closed, for a successor to go on from input
 * `position + 1`. `now` is where the engine stands, `before` where it stood before the event
 * being placed. None while an event is held apart by the jump guard (its count is not kept), or
 * when where the engine stood after `position` is not known.
 */
export function checkpointOf(stream: StreamSlices, slice: number, position: number, now: PlacePoint, before: PlacePoint, crews: readonly CrewSchedule[]): EngineCheckpoint | undefined {
  if (stream.suspects !== undefined) return undefined;
  // As the engine stood after the event at `position`: before the one being placed (it made
  // this slice close), or before the first event still open, or now when nothing is open.
  let point: PlacePoint | undefined = now;
  if (stream.placing === position + 1) point = before;
  else for (const [key, state] of stream.slices) if (key > slice && state.firstPosition === position + 1) point = state.before;
  if (point === undefined) return undefined;
  const lookBack: EngineCheckpoint['lookBack'][number][] = [];
  const mergesAhead: number[] = [];
  for (const [key, state] of stream.slices) {
    if (key > slice) {
      // Made ahead for a lagging crew's merge, with no event of its own; one an event after `position` made, it remakes.
      if (state.firstPosition === Number.POSITIVE_INFINITY) mergesAhead.push(key);
      continue;
    }
    const skipped = [...state.skips.keys()].map((index) => crews[index]?.id ?? String(index));
    if (state.kinds.size > 0 || skipped.length > 0) lookBack.push({ slice: key, kinds: [...state.kinds], skipped });
  }
  return { streamId: stream.id, epoch0: stream.epoch0, slice, position, ...point, lookBack, ...(mergesAhead.length > 0 ? { mergesAhead } : {}) };
}

/**
 * A stream as a checkpoint left it: its watermark and lowest open slice, and what a dependency
 * looks back at as the closed slices left it. `wallStart` and `lastSeen` are the caller's (they
 * depend on the clock and mode).
 */
export function restoredStream(checkpoint: EngineCheckpoint, crews: readonly CrewSchedule[], clockStart: { readonly wallStart: number; readonly lastSeen: number }): StreamSlices {
  const { streamId, epoch0, maxTs, openFrom, position } = checkpoint;
  const stream = newStream(streamId, epoch0, { maxTs, openFrom, ...clockStart, lastPosition: position, through: position });
  const byId = new Map(crews.map((crew) => [crew.id, crew]));
  for (const closed of checkpoint.lookBack) {
    const state = newSliceState(crews.length, Number.POSITIVE_INFINITY, undefined);
    for (const kind of closed.kinds) state.kinds.add(kind);
    for (const id of closed.skipped) {
      const crew = byId.get(id);
      if (crew !== undefined) state.skips.set(crew.index, []);
    }
    stream.slices.set(closed.slice, state);
  }
  for (const slice of checkpoint.mergesAhead ?? []) ensureSlice(stream, slice, crews.length);
  return stream;
}
