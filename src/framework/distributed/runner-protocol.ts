import type { Event } from '../model/event.js';
import type { ContextSnapshot, ContextWrite, MaybePromise } from '../ports.js';

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
       * S(slice-1), on the crew's first call of the slice: the runner starts the slice from it
       * without reading the context backend (one round trip less at every slice boundary).
       */
      readonly context?: ContextSnapshot;
    }
  | {
      /** The slice is over for this crew: it reports what it wrote (`CrewSliceDone`). */
      readonly type: 'close';
      readonly streamId: string;
      readonly slice: number;
      readonly crew: string;
    };

/** A runner's report that a crew finished a slice (`live.<stream>.slice.<n>.<crew>.done`). */
export interface CrewSliceDone {
  readonly streamId: string;
  readonly slice: number;
  readonly crew: string;
  /** The crew's last write per key in the slice: `[key, value]`, or `[key]` for a deletion. */
  readonly writes: readonly ContextWrite[];
  /** Whether the crew is disabled at the end of the slice. */
  readonly disabled: boolean;
}

/** Where the distributed scheduler sends crews' work. */
export interface CrewWorkSink {
  /** Sends one work item; resolves when more may be sent (backpressure). */
  send(work: CrewWork): MaybePromise<void>;
  /** Resolves when everything sent so far is stored. */
  flush(): Promise<void>;
}
