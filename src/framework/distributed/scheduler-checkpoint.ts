import { z } from 'zod';
import { EngineCheckpointSchema } from '../scheduler/engine-checkpoint.js';

/** Where a scheduler resumes a stream: what its predecessor finished. */
const SchedulerResumeSchema = z.object({
  /** Input before this position was fully handled: its error records are not published again. */
  quietBefore: z.number(),
  /** Per crew id, the first slice its reports said it was disabled in. */
  disabledFrom: z.record(z.string(), z.number().int()).optional(),
  /**
   * Per lagging crew id, the slices up to the committed one in which it got work: their reports
   * merge in later slices, which a successor merges without having sent that work itself.
   */
  lagging: z.record(z.string(), z.array(z.number().int())).optional(),
});

/** See `SchedulerResumeSchema`. */
export type SchedulerResume = Readonly<z.infer<typeof SchedulerResumeSchema>>;

/** What a committed slice leaves for a successor: where to resume, and how to go on from there without reading from the start. */
const SchedulerCheckpointSchema = SchedulerResumeSchema.extend({
  /** The engine's state after the slice closed; absent when it could not be taken there. */
  engine: EngineCheckpointSchema.optional(),
  /** The first report sequence (`receive`) a successor still needs: those before it are of merged slices. */
  reportsFrom: z.number().int().min(1),
});

/** See `SchedulerCheckpointSchema`. */
export type SchedulerCheckpoint = Readonly<z.infer<typeof SchedulerCheckpointSchema>>;

/** A committed slice's checkpoint as a scheduler stores it: with the slice. */
export const StoredSchedulerCheckpointSchema = SchedulerCheckpointSchema.extend({ slice: z.number().int() });
