/**
 * A stream's shared context as it is merged, committed and carried between processes (DESIGN §4).
 */

/** A merged context snapshot S(n): top-level keys to JSON values. Never mutated once published. */
export type ContextSnapshot = Readonly<Record<string, unknown>>;

/** A stream's context as committed: S(slice), the snapshot after merging slice `slice`. */
export interface CommittedContext {
  readonly slice: number;
  readonly context: ContextSnapshot;
  /** The stream's epoch0 (absent in documents written before it was kept). */
  readonly epoch0?: number;
  /** Every event of the stream at or before this input position is merged (or was refused). */
  readonly position?: number;
  /** Lagging crews' writes of those events that merge in a later slice. */
  readonly lagging?: LaggingWrites;
}

/**
 * What lagging crews (`@Crew({ lag })`) wrote in slices already committed that merges in a later
 * slice: per crew and merge slice, its last write per key (`[key]` for a deletion). A restart
 * puts them back, so a crash between a lagging call and its merge loses nothing.
 */
export type LaggingWrites = ReadonlyArray<{ readonly crew: string; readonly slice: number; readonly writes: readonly ContextWrite[] }>;

/** A context write as it is stored or travels between processes: `[key, value]`, or `[key]` for a deletion. */
export type ContextWrite = readonly [string, unknown] | readonly [string];

/** What a commit records beside the snapshot: where the stream's slices start, and how far its input is merged. */
export interface CommitProgress {
  readonly epoch0: number;
  readonly position: number;
  readonly lagging?: LaggingWrites;
}
