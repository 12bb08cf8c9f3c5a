import type { CrewDefinition } from '../discovery/crew-definition.js';
import type { BacklogPolicy, WaitPolicy } from '../discovery/crew-knobs.js';
import { waitsOn } from '../model/dependency.js';

/** A dependency with its crew resolved to a run-order index. */
export type ScheduledDependency =
  | { readonly type: 'crew'; readonly crew: string; readonly crewIndex: number; readonly offset: number }
  | { readonly type: 'event'; readonly event: string; readonly offset: number };

/** What the slice engine needs to know of a crew: when it runs, never how. */
export interface CrewSchedule {
  readonly id: string;
  /** Position in run order. */
  readonly index: number;
  /** Triggered by every kind. */
  readonly anyKind: boolean;
  readonly kinds: ReadonlySet<string>;
  readonly dependencies: readonly ScheduledDependency[];
  readonly waitPolicy: WaitPolicy;
  /** With `timeout:<ms>`: the longest a held crew waits for its dependencies, in ms of wall time. */
  readonly waitTimeoutMs: number | undefined;
  readonly sliceStride: number;
  readonly backlogPolicy: BacklogPolicy;
  /** Its writes of slice n merge at the close of n + lag. */
  readonly lag: number;
  /**
   * An offset-0 dependency, or one on a lagged crew whose slice n + offset is not merged by the
   * time slice n runs, is decided only when the slice closes, so the crew's calls wait for it,
   * and what it gets then is a backlog (its backlog policy applies).
   */
  readonly waitsForClose: boolean;
  /** The crews it waits for, with the slice offset each must have finished when slice n closes. */
  readonly settleFirst: readonly { readonly crewIndex: number; readonly offset: number }[];
  /** Its calls wait for the slice to close: `waitsForClose`, or eager dispatch is off. */
  readonly holdsUntilClose: boolean;
  /** No dependency and stride 1: every triggering event runs at once. */
  readonly unconditional: boolean;
}

/**
 * The schedules of crews given in run order. With `eager` false every call is held until its
 * slice closes; the output is the same.
 */
export function scheduleCrews(crews: readonly CrewDefinition[], eager = true): CrewSchedule[] {
  const indexOf = new Map(crews.map((crew, index) => [crew.id, index]));
  return crews.map((crew, index) => {
    const kinds = new Set<string>();
    let anyKind = false;
    for (const handler of crew.handlers) {
      if (handler.trigger.any) anyKind = true;
      else for (const kind of handler.trigger.kinds) kinds.add(kind);
    }
    const dependencies = crew.dependencies.map((dep): ScheduledDependency => (dep.type === 'crew' ? { ...dep, crewIndex: indexOf.get(dep.crew)! } : dep));
    const settleFirst = dependencies.flatMap((dep) => (dep.type === 'crew' && waitsOn(dep, crews[dep.crewIndex]!.lag) ? [{ crewIndex: dep.crewIndex, offset: dep.offset }] : []));
    const waitsForClose = dependencies.some((dep) => dep.offset === 0) || settleFirst.length > 0;
    return {
      id: crew.id,
      index,
      anyKind,
      kinds,
      dependencies,
      waitPolicy: crew.waitPolicy,
      waitTimeoutMs: crew.waitPolicy.startsWith('timeout:') ? Number(crew.waitPolicy.slice('timeout:'.length)) : undefined,
      sliceStride: crew.sliceStride,
      backlogPolicy: crew.backlogPolicy,
      lag: crew.lag,
      waitsForClose,
      settleFirst,
      holdsUntilClose: waitsForClose || !eager,
      unconditional: eager && dependencies.length === 0 && crew.sliceStride === 1,
    };
  });
}

/** The first slice at or after `slice` on which a crew of stride `stride` runs. */
export function nextRunSlice(slice: number, stride: number): number {
  const remainder = ((slice % stride) + stride) % stride;
  return remainder === 0 ? slice : slice + stride - remainder;
}

/** A backlog as the policy hands it over: all of it, or the newest event of each kind (by ts, then arrival). */
export function applyBacklogPolicy<T extends { readonly event: { readonly kind: string }; readonly tsMs: number }>(events: readonly T[], policy: BacklogPolicy): readonly T[] {
  if (policy === 'fifo' || events.length < 2) return events;
  const newest = new Map<string, T>();
  for (const envelope of events) {
    const current = newest.get(envelope.event.kind);
    if (current === undefined || envelope.tsMs >= current.tsMs) newest.set(envelope.event.kind, envelope);
  }
  const kept = new Set(newest.values());
  return events.filter((envelope) => kept.has(envelope));
}
