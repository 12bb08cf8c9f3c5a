import type { EventEnvelope } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import { waitDecision } from '../replay/decision-keys.js';
import type { CrewSchedule, ScheduledDependency } from './crew-schedule.js';
import type { SliceTarget } from './slice-target.js';
import type { SliceState, StreamSlices } from './stream-slices.js';

/** A crew held in an open slice under `timeout:<ms>`, and the wall time its wait ends. */
export interface WaitingCrew {
  readonly stream: StreamSlices;
  readonly slice: number;
  readonly state: SliceState;
  readonly crew: CrewSchedule;
  readonly until: number;
}

/**
 * Whether a crew may run a slice (DESIGN §4): its dependencies met per its wait policy, decided
 * once per slice; the events of a slice it skips; and the crews held in an open slice under
 * `timeout:<ms>` until their wait ends (live mode).
 */
export class CrewReadiness {
  readonly #target: Pick<SliceTarget, 'isDisabled'>;
  readonly #clock: Clock;
  readonly #live: boolean;
  readonly #waiting = new Set<WaitingCrew>();

  constructor(target: Pick<SliceTarget, 'isDisabled'>, clock: Clock, live: boolean) {
    this.#target = target;
    this.#clock = clock;
    this.#live = live;
  }

  /** Whether any crew waits on a wall-clock timeout. */
  get anyWaiting(): boolean {
    return this.#waiting.size > 0;
  }

  /** A crew's unmet dependencies in a slice, per its wait policy ([] = it runs); decided once per slice. */
  decide(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule): readonly string[] {
    let unmet = state.decided[crew.index];
    if (unmet === undefined) {
      const missing = crew.dependencies.filter((dep) => !this.#satisfied(stream, slice, dep));
      const met = crew.dependencies.length - missing.length;
      // `timeout:<ms>` runs with what is met: by now waiting would not change it.
      const decisive = crew.waitPolicy === 'none' || crew.waitTimeoutMs !== undefined || (crew.waitPolicy === 'any' && (met > 0 || crew.dependencies.length === 0));
      unmet = decisive ? [] : missing.map((dep) => describeDependency(dep, slice + dep.offset));
      state.decided[crew.index] = unmet;
    }
    return unmet;
  }

  /** Notes events a crew skips in a slice. */
  skip(state: SliceState, crew: CrewSchedule, events: readonly EventEnvelope[]): void {
    const skipped = state.skips.get(crew.index);
    if (skipped === undefined) state.skips.set(crew.index, [...events]);
    else skipped.push(...events);
  }

  /** A crew held for an offset-0 dependency under `timeout:<ms>` waits at most that long (live mode). */
  startWait(stream: StreamSlices, slice: number, state: SliceState, crew: CrewSchedule): void {
    if (crew.waitTimeoutMs === undefined || !crew.waitsForClose || !this.#live) return;
    for (const waiting of this.#waiting) if (waiting.state === state && waiting.crew === crew) return;
    this.#waiting.add({ stream, slice, state, crew, until: this.#clock.now() + crew.waitTimeoutMs });
  }

  /** The slice closes: its waits end with it. */
  endWaits(state: SliceState): void {
    for (const waiting of this.#waiting) if (waiting.state === state) this.#waiting.delete(waiting);
  }

  /** Whether a crew of the stream waits on a wall-clock timeout. */
  waitsIn(stream: StreamSlices): boolean {
    for (const waiting of this.#waiting) if (waiting.stream === stream) return true;
    return false;
  }

  /** The waits that have run out by wall time `now`. */
  dueBy(now: number): WaitingCrew[] {
    return [...this.#waiting].filter((waiting) => waiting.until <= now);
  }

  /** The waits the journal says were ended after `accepted` input events. */
  journaledDue(journal: DecisionJournal, accepted: number): WaitingCrew[] {
    return [...this.#waiting].filter((waiting) => journal.has(waitKey(waiting, accepted)));
  }

  /** Ends a wait: its crew runs the slice's calls at once from now on. */
  release(waiting: WaitingCrew): void {
    this.#waiting.delete(waiting);
    waiting.state.released.add(waiting.crew.index);
  }

  /**
   * `{crew, offset}`: the crew finished slice n + offset (slices before 0 count as finished; a
   * crew that skipped it, or is disabled, did not). `{event, offset}`: an event of that kind ran
   * in slice n + offset.
   */
  #satisfied(stream: StreamSlices, slice: number, dep: ScheduledDependency): boolean {
    const target = slice + dep.offset;
    if (dep.type === 'crew') {
      if (target < 0) return true;
      return !this.#target.isDisabled(stream.id, dep.crewIndex, target) && stream.slices.get(target)?.skips.has(dep.crewIndex) !== true;
    }
    return stream.slices.get(target)?.kinds.has(dep.event) === true;
  }
}

/** The journal key of a waiting crew's wait ended early, after `accepted` input events. */
export function waitKey(waiting: WaitingCrew, accepted: number): string {
  return waitDecision(waiting.crew.id, waiting.stream.id, waiting.slice, accepted);
}

function describeDependency(dep: ScheduledDependency, slice: number): string {
  return dep.type === 'crew' ? `crew ${dep.crew} has not finished slice ${slice}` : `no ${dep.event} event in slice ${slice}`;
}
