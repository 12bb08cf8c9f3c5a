import { z } from 'zod';

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
