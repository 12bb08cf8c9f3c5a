import { StreamContext, type MergedSlice } from '../context/stream-context.js';
import type { ContextSnapshot } from '../model/committed-context.js';
import type { CrewReports, StallWatch } from './crew-reports.js';
import type { CrewSliceDone, SliceBase, WantedReport } from '../runner-protocol.js';

/**
 * How many slices behind the newest base a runner keeps reports for (per crew, times the most
 * slices a crew lags, the most reports it keeps while no merge waits): a crew whose work lags
 * further behind reads them again from its base's sequence.
 */
const KEPT_SLICES = 64;

/**
 * Slice `slice` merges `reports` (the crews' writes that merge there; `indexOf` gives each crew's
 * place in run order, which decides who wins) into `context`: S(slice). The one merge the
 * scheduler commits and every runner works out alike.
 */
export function mergeReports(context: StreamContext, slice: number, reports: readonly CrewSliceDone[], indexOf: ReadonlyMap<string, number>): MergedSlice | undefined {
  for (const { crew, writes } of reports) context.writesOf(slice, indexOf.get(crew)!).recordWire(writes);
  return context.close(slice);
}

/** What a `MergedContextReplica` needs. */
export interface MergedContextReplicaOptions {
  readonly streamId: string;
  /** Every crew of the run, in run order. */
  readonly crews: readonly { readonly id: string; readonly lag: number }[];
  readonly contextMaxBytes: number;
  /** Where the reports this replica `receive`s are kept until merged. */
  readonly reports: CrewReports;
  /**
   * Makes sure reports are read from sequence `from` on; `again` reads them again from there
   * even if they were read already (the replica dropped some a lagging crew still needs).
   */
  readonly readReports: (from: number, again: boolean) => void;
  /** Stops reading reports until `readReports` is called again (the runner's crews have no work). */
  readonly stopReading?: () => void;
  /** Told, every `afterMs` while a merge waits, which reports it misses: a runner hosting them may be down. */
  readonly stalled?: Omit<StallWatch, 'stalled'> & { readonly stalled: (slice: number, missing: readonly WantedReport[], waitedMs: number) => void };
}

/**
 * A runner's copy of a stream's merged context (DESIGN §5): S(n-1) for a crew starting slice n,
 * worked out from the `SliceBase` its first call carries and the crews' reports, with the
 * scheduler's own merge. Slice n's calls therefore run as soon as the reports of n-1 are here,
 * without waiting for the scheduler to merge and commit n-1. The crews a runner hosts share it:
 * each slice is merged once.
 */
export class MergedContextReplica {
  readonly #options: MergedContextReplicaOptions;
  readonly #indexOf: ReadonlyMap<string, number>;
  readonly #maxLag: number;
  /**
   * S(n) per slice n merged or being merged, from the newest base's on. Each waits only on its
   * own reports and the slice before it: a crew whose base needs nothing never waits behind one
   * whose base needs a report not sent yet (that report may be its own).
   */
  readonly #merged = new Map<number, Promise<ContextSnapshot>>();
  /** The newest base's `after`: a merge before it is worked out again only for a crew far behind. */
  #newest = Number.NEGATIVE_INFINITY;
  /** Reports of slices below this are dropped: no base still being worked from needs them. */
  #floor = Number.NEGATIVE_INFINITY;
  /** The most reports kept while no merge waits for one. */
  readonly #maxKept: number;

  constructor(options: MergedContextReplicaOptions) {
    this.#options = options;
    this.#indexOf = new Map(options.crews.map((crew, index) => [crew.id, index]));
    this.#maxLag = Math.max(0, ...options.crews.map((crew) => crew.lag));
    this.#maxKept = KEPT_SLICES * options.crews.length * (1 + this.#maxLag);
  }

  /**
   * A crew's report: made by this runner, or read from the published order (`seq`). Only the
   * scheduler's bases decide which slices are past: a report's own slice number is whatever its
   * sender wrote, and one far ahead must not make a replica drop what others need. While no merge
   * waits, a runner whose crews have no work keeps no backlog: past `#maxKept` reports it drops
   * them all and stops reading, and the next base reads from its own sequence, as at a start.
   */
  receive(done: CrewSliceDone, seq?: number): void {
    if (done.slice < this.#floor) return;
    const { reports } = this.#options;
    reports.put(done, seq);
    if (seq === undefined || reports.size <= this.#maxKept || reports.waiting) return;
    reports.forget(() => true);
    this.#options.stopReading?.();
  }

  /** Nothing more will be received (the reading failed): crews waiting on a merge fail with `reason`. */
  cancel(reason: Error): void {
    this.#options.reports.cancel(reason);
  }

  /** S(n-1) for slice n, from the base its first call carries. */
  before(base: SliceBase): Promise<ContextSnapshot> {
    // The oldest report these merges take is of slice after + 1 - maxLag.
    const oldest = base.after + 1 - this.#maxLag;
    if (oldest < this.#floor) {
      // A crew far behind the others: the reports it needs may have been dropped.
      this.#floor = oldest;
      this.#options.readReports(base.reportsFrom, true);
    } else this.#options.readReports(base.reportsFrom, false);
    let merged = this.#merged.get(base.after) ?? Promise.resolve(base.snapshot);
    for (const merge of base.merges) {
      const known = this.#merged.get(merge.slice);
      if (known !== undefined) merged = known;
      else {
        merged = this.#merge(merged, merge.slice, merge.reports);
        this.#merged.set(merge.slice, merged);
      }
    }
    if (base.after > this.#newest) this.#forgetBefore(base.after);
    return merged;
  }

  /** S(slice), from S of the slice merged before it and the reports `slice` takes. */
  async #merge(before: Promise<ContextSnapshot>, slice: number, taken: readonly WantedReport[]): Promise<ContextSnapshot> {
    const { streamId, crews, contextMaxBytes, reports, stalled } = this.#options;
    const watch = stalled && { ...stalled, stalled: (missing: readonly WantedReport[], waitedMs: number) => stalled.stalled(slice, missing, waitedMs) };
    const [snapshot, done] = await Promise.all([before, reports.waitAll(streamId, taken, watch)]);
    const context = new StreamContext(snapshot, crews.length, contextMaxBytes);
    mergeReports(context, slice, done, this.#indexOf);
    return context.snapshot;
  }

  /** A base after `after` came: merges before it, and reports too old for any base near it, go. */
  #forgetBefore(after: number): void {
    this.#newest = after;
    for (const slice of this.#merged.keys()) if (slice < after) this.#merged.delete(slice);
    this.#dropReportsBefore(after - KEPT_SLICES - this.#maxLag);
  }

  #dropReportsBefore(floor: number): void {
    if (floor <= this.#floor) return;
    this.#floor = floor;
    this.#options.reports.forget((done) => done.slice < floor);
  }
}
