// What the dev dashboard shows, as JSON: the server keeps a `DashboardView`, sends it whole when a
// page connects, then `DashboardPatch`es. The page (`ui/`) imports this module too, so both ends
// read the same shapes and fold patches the same way. Nothing here may import Node.

import type { PoolView } from '../../framework/distributed/pool-view.js';

/** What a crew is doing, as the dashboard tells it. */
export type CrewStatus = 'idle' | 'running' | 'waiting' | 'lagging' | 'disabled';

/** A crew: what it is (from its decorators) and what it is doing. */
export interface CrewView {
  readonly id: string;
  /** The event kinds its handlers take (`*`: every kind). */
  readonly triggers: readonly string[];
  readonly dependencies: ReadonlyArray<{ readonly crew?: string; readonly event?: string; readonly offset: number }>;
  readonly lag: number;
  /** `inline`, `worker` or `process`; absent where unknown (a NATS viewer without `--crews`). */
  readonly isolation?: string;
  readonly status: CrewStatus;
  /** The crews it waits for (status `waiting`). */
  readonly waitingOn: readonly string[];
  /** Handler calls (or, for a NATS viewer, slices of work) running now. */
  readonly inFlight: number;
  readonly calls: number;
  readonly actions: number;
  readonly errors: number;
  /**
   * Errors since its last call that succeeded; null for a NATS viewer, which sees errors but not
   * which calls succeeded.
   */
  readonly errorStreak: number | null;
  /** How many closed slices behind the stream its oldest running call is (0: none). */
  readonly slicesBehind: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** A slice of a stream on the timeline. */
export interface SliceView {
  readonly slice: number;
  readonly state: 'open' | 'closed';
  readonly events: number;
  readonly actions: number;
  readonly errors: number;
  /** Whether its merge changed the context. */
  readonly changed: boolean;
}

/** A stream: its slices (the latest `SLICES_KEPT`), its context, what the last merge changed. */
export interface StreamView {
  readonly id: string;
  readonly events: number;
  readonly slices: readonly SliceView[];
  readonly context: Readonly<Record<string, unknown>>;
  readonly lastChange?: { readonly slice: number; readonly ts: string; readonly changed: readonly string[]; readonly deleted: readonly string[] };
}

/** An action as sent, with the crew that emitted it. */
export interface ActionView {
  readonly seq: number;
  readonly ts: string;
  readonly kind: string;
  readonly stream: string;
  readonly crew: string;
  readonly slice: number | undefined;
  readonly payload: unknown;
}

/** An error record as sent. */
export interface ErrorView {
  readonly seq: number;
  readonly ts: string;
  readonly stream: string;
  readonly reason: string;
  readonly message: string;
  readonly crew?: string;
  readonly slice?: number;
  readonly source?: string;
}

/** A model call as monitors see it (never its prompt). */
export interface ModelCallView {
  readonly seq: number;
  /** When it ended, wall time. */
  readonly at: string;
  readonly crew: string;
  readonly model: string;
  readonly outcome: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly seconds: number;
}

/** A process of a distributed run, as its heartbeats tell it. */
export interface RunnerView {
  readonly name: string;
  readonly silent: boolean;
}

/** Totals of the run so far. */
export interface RunCounts {
  readonly events: number;
  readonly actions: number;
  readonly errors: number;
  readonly modelCalls: number;
}

/** Everything the dashboard shows. */
export interface DashboardView {
  /** What is shown: `run` (this process runs the crews) or `viewer` (a NATS stream, read-only). */
  readonly mode: 'run' | 'viewer';
  readonly title: string;
  readonly sliceMs: number;
  /** Whether the run has ended (its input is done). */
  readonly finished: boolean;
  readonly counts: RunCounts;
  readonly crews: readonly CrewView[];
  readonly streams: readonly StreamView[];
  readonly runners: readonly RunnerView[];
  /** The latest `RECORDS_KEPT` of each, oldest first. */
  readonly actions: readonly ActionView[];
  readonly errors: readonly ErrorView[];
  readonly modelCalls: readonly ModelCallView[];
  /** A pool over NATS (`dev --nats-url`): its workers, runner groups and streams; absent otherwise. */
  readonly pool?: PoolView;
}

/** What changed since the last patch: the parts given replace the view's, the lists append. */
export interface DashboardPatch {
  readonly finished?: boolean;
  readonly counts?: RunCounts;
  readonly crews?: readonly CrewView[];
  readonly streams?: readonly StreamView[];
  readonly runners?: readonly RunnerView[];
  readonly actions?: readonly ActionView[];
  readonly errors?: readonly ErrorView[];
  readonly modelCalls?: readonly ModelCallView[];
  readonly pool?: PoolView;
}

/** The id of the element the served page holds the view in (JSON), for its first paint. */
export const VIEW_ELEMENT_ID = 'live-crew-view';

/** How many actions, errors and model calls the dashboard keeps (the latest). */
export const RECORDS_KEPT = 500;
/** How many slices of a stream the timeline keeps (the latest). */
export const SLICES_KEPT = 60;

/** The view with a patch folded in. */
export function applyPatch(view: DashboardView, patch: DashboardPatch): DashboardView {
  return {
    ...view,
    ...(patch.finished !== undefined ? { finished: patch.finished } : {}),
    ...(patch.counts !== undefined ? { counts: patch.counts } : {}),
    ...(patch.crews !== undefined ? { crews: patch.crews } : {}),
    ...(patch.streams !== undefined ? { streams: patch.streams } : {}),
    ...(patch.runners !== undefined ? { runners: patch.runners } : {}),
    ...(patch.pool !== undefined ? { pool: patch.pool } : {}),
    actions: appended(view.actions, patch.actions),
    errors: appended(view.errors, patch.errors),
    modelCalls: appended(view.modelCalls, patch.modelCalls),
  };
}

/** `list` with `more` after it, the latest RECORDS_KEPT. */
export function appended<T>(list: readonly T[], more: readonly T[] | undefined): readonly T[] {
  if (more === undefined || more.length === 0) return list;
  const all = [...list, ...more];
  return all.length > RECORDS_KEPT ? all.slice(all.length - RECORDS_KEPT) : all;
}
