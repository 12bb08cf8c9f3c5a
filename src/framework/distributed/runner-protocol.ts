import type { Event } from '../model/event.js';
import type { ContextSnapshot, ContextWrite } from '../model/committed-context.js';
import type { MaybePromise } from '../ports/maybe-promise.js';

// The runner protocol (DESIGN §5, §8): the work a scheduler hands the runner hosting a crew, and
// the runner's report that the crew finished a slice. NATS carries it between processes
// (`adapters/nats/crew-work-wire.ts`); an isolated crew's worker or child process gets the same
// `call` items, each answered when it ends (`isolation/isolation-protocol.ts`).

/**
 * One unit of a crew's work in a slice of a stream, as the distributed scheduler hands it to the
 * runner hosting the crew (DESIGN §5: `live.<stream>.slice.<n>.<crew>.ready`). A crew's work
 * arrives in the order the in-process engine would run it: calls of slice n in arrival order,
 * then `close`, then slice n+1's.
 */
export type CrewWork =
  | {
      readonly type: 'call';
      readonly streamId: string;
      readonly slice: number;
      readonly crew: string;
      readonly event: Event;
      /** The event's position in its input: with the slice, it names the call. */
      readonly position: number;
      /** Where the event came from, for error records (`nats:live.m1.events#42`). */
      readonly source: string;
      /**
       * On the crew's first call of the slice: what the runner works S(slice-1) out from, so it
       * starts the slice without waiting for the scheduler's merge or reading the backend.
       */
      readonly base?: SliceBase;
    }
  | {
      /** The slice is over for this crew: it reports what it wrote (`CrewSliceDone`). */
      readonly type: 'close';
      readonly streamId: string;
      readonly slice: number;
      readonly crew: string;
    }
  | {
      /**
       * The stream's input ended and every slice is committed: the crew has no more work on it.
       * `slice` is the one after the last.
       */
      readonly type: 'end';
      readonly streamId: string;
      readonly slice: number;
      readonly crew: string;
    };

/**
 * What a runner needs to work out S(n-1) for slice n itself (DESIGN §5): the last snapshot the
 * scheduler had merged, and, for each slice closed since, whose reports it merges. The scheduler
 * closes slice n-1 and sends slice n's calls at once; each runner merges the reports with the
 * same `StreamContext` code the scheduler commits with, so both get the same S(n-1).
 */
export interface SliceBase {
  /** The slice whose merged context `snapshot` is: S(after). */
  readonly after: number;
  readonly snapshot: ContextSnapshot;
  /** Every slice closed after `after` and before the call's slice, in order, with what it merges. */
  readonly merges: readonly SliceMerge[];
  /** A report sequence from which every report these merges take can be read. */
  readonly reportsFrom: number;
}

/** A crew's report of a slice, by name: what a merge takes, and what a wait for reports waits for. */
export type WantedReport = readonly [crew: string, slice: number];

/** A slice's merge: the crews' reports it takes, in run order (a lagging crew's from slice - lag). */
export interface SliceMerge {
  readonly slice: number;
  readonly reports: readonly WantedReport[];
}

/** A runner's report that a crew finished a slice (`live.<stream>.slice.<n>.<crew>.done`). */
export interface CrewSliceDone {
  readonly streamId: string;
  readonly slice: number;
  readonly crew: string;
  /** The crew's last write per key in the slice: `[key, value]`, or `[key]` for a deletion. */
  readonly writes: readonly ContextWrite[];
  /** Whether the crew is disabled at the end of the slice. */
  readonly disabled: boolean;
  /**
   * Set when the report on the wire was not one live-crew writes (DESIGN §5 amendments): it
   * merges nothing, and the scheduler records a `bad_report` error naming the sender.
   */
  readonly refused?: { readonly problem: string; readonly sender: string; readonly source: string };
}

/** Where the distributed scheduler sends crews' work. */
export interface CrewWorkSink {
  /** Sends one work item; resolves when more may be sent (backpressure). */
  send(work: CrewWork): MaybePromise<void>;
  /** Resolves when everything sent so far is stored; rejects once a send could not be stored. */
  flush(): Promise<void>;
}
