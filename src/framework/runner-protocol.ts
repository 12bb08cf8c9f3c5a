import { z } from 'zod';
import type { LiveCrewConfig } from './config/config-schema.js';
import type { ContextSnapshot, ContextWrite } from './model/committed-context.js';
import type { Event } from './model/event.js';
import type { MaybePromise } from './ports/maybe-promise.js';

// The runner protocol (DESIGN §5, §8): what the process running a stream's slices says to
// whatever hosts a crew, and what comes back. One set of messages over three links:
//
// - in process: `CrewRunner` is called directly; nothing is sent.
// - NATS (`adapters/nats/crew-work-wire.ts`): `call`, `close` and `end` go down to a runner,
//   which publishes its crew's actions itself and reports `done` once per slice.
// - an isolate (a worker thread or child process, `isolation/`): `init` starts it, and `calls`
//   carries a lane's waiting calls of a slice with the crew's view (an isolate keeps no context
//   between messages), run in order, each call's writes applied to the view before the next.
//   Each is answered as it ends (`ran`), and the app applies the answers call by call as if they
//   had run in process, so a crash loses only the call in flight. Its model calls, vector calls and recorded effects are requests the app
//   answers, so they are journaled and budgeted as in process.
//
// Every message has a `type`; a link carries the part of `RunnerDown` and `RunnerUp` it needs.

/**
 * One handler call of a crew in a slice of a stream (DESIGN §5: `live.<stream>.slice.<n>.<crew>.ready`).
 * A crew's work arrives in the order the in-process engine would run it: calls of slice n in
 * arrival order, then `close`, then slice n+1's.
 */
export interface CrewCall {
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

/** The slice is over for this crew: it reports what it wrote (`CrewSliceDone`). */
export interface SliceClose {
  readonly type: 'close';
  readonly streamId: string;
  readonly slice: number;
  readonly crew: string;
}

/** The stream's input ended and every slice is committed: the crew has no more work on it. `slice` is the one after the last. */
export interface StreamEnd {
  readonly type: 'end';
  readonly streamId: string;
  readonly slice: number;
  readonly crew: string;
}

/** One unit of a crew's work on a stream: a call, the end of a slice, the end of the stream. */
export type CrewWork = CrewCall | SliceClose | StreamEnd;

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
  readonly type: 'done';
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

/** What an isolate is told first: which crew, from which module, with which configuration. */
export interface IsolateInit {
  readonly type: 'init';
  readonly crewsModule: string;
  readonly crewId: string;
  readonly config: LiveCrewConfig;
  /** Its heap and its buffers together (V8's external memory: Buffers, ArrayBuffers) may use at most this many MB. */
  readonly memoryLimitMb?: number;
}

/** A call as an isolate receives it: it names its handler, and is answered by `id`. */
export interface IsolatedCall extends Omit<CrewCall, 'type' | 'base'> {
  /** Names the call in the isolate's answer. */
  readonly id: number;
  /** The handler to run: the call names the crew, an isolate hosts one. */
  readonly method: string;
  /**
   * The call's limit, when the app holds it to one: a call that ran longer (the app times it
   * out) ends the run of calls, as a failed one does, so no later call runs on a view the app
   * will not have.
   */
  readonly timeoutMs?: number;
}

/**
 * Calls of one lane in one slice (DESIGN §8): the isolate runs them in order on `context`, each
 * call's writes applied before the next, up to the first that fails or runs past its limit; the
 * calls after it are answered as not run.
 */
export interface IsolatedCalls {
  readonly type: 'calls';
  readonly calls: readonly IsolatedCall[];
  /** S(n-1) with the crew's own writes not merged yet: what the first call reads. */
  readonly context: ContextSnapshot;
}

/**
 * The answer to a crew host's request: a model's answer in its journal form (`toJournalValue` of
 * the generate result, or of the stream's parts); an effect's journal entry (its outcome, when
 * recorded); or why there is none.
 */
export interface RequestAnswer {
  readonly type: 'answer';
  readonly request: number;
  readonly result?: unknown;
  readonly effect?: { readonly key: string; readonly what: string; readonly outcome?: { readonly result?: unknown; readonly error?: string } | undefined };
  readonly error?: string;
}

/** What goes to a crew's host. */
export type RunnerDown = CrewWork | IsolatedCalls | IsolateInit | RequestAnswer;

/** A write as it travels: `[key, value]`, or `[key]` for a deletion. */
const WireWrite = z.union([z.tuple([z.string()]).readonly(), z.tuple([z.string(), z.unknown()]).readonly()]);

/**
 * What an isolate sends, checked on arrival (what runs there is crew code): it is ready; it could
 * not start; calls ended, each with its actions and writes or its failure, and which were not run
 * (`ran`); something escaped a call after it ended (`stray`); and its requests (`model`,
 * `effect`, `effect-outcome`, `embed`, `vectors`).
 */
export const IsolateReportSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('fatal'), error: z.string() }),
  z.strictObject({
    type: z.literal('ran'),
    results: z.array(
      z.discriminatedUnion('outcome', [
        z.strictObject({
          outcome: z.literal('called'),
          id: z.number().int(),
          actions: z.array(z.strictObject({ kind: z.string(), payload: z.unknown(), ttlMs: z.number() })),
          writes: z.array(WireWrite),
          /** How long the call ran in the isolate. */
          ms: z.number().min(0),
        }),
        z.strictObject({ outcome: z.literal('failed'), id: z.number().int(), error: z.string() }),
      ]),
    ),
    /** Calls of the run that were not run: a call before them failed or ran past its limit. */
    unrun: z.array(z.number().int()),
  }),
  z.strictObject({ type: z.literal('stray'), id: z.number().int(), error: z.string() }),
  z.strictObject({
    type: z.literal('model'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string().nullable(),
    mode: z.enum(['generate', 'stream']),
    options: z.unknown(),
  }),
  z.strictObject({ type: z.literal('effect'), id: z.number().int(), request: z.number().int(), name: z.string() }),
  z.strictObject({
    type: z.literal('effect-outcome'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string(),
    key: z.string(),
    what: z.string(),
    outcome: z.strictObject({ result: z.unknown().optional(), error: z.string().optional() }),
  }),
  z.strictObject({
    type: z.literal('embed'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string().nullable(),
    values: z.array(z.string()),
    providerOptions: z.unknown().optional(),
  }),
  z.strictObject({
    type: z.literal('vectors'),
    id: z.number().int(),
    request: z.number().int(),
    collection: z.string(),
    op: z.enum(['search', 'upsert', 'delete']),
    args: z.array(z.unknown()),
  }),
]);

/** See `IsolateReportSchema`. */
export type IsolateReport = z.infer<typeof IsolateReportSchema>;

/** What comes back from a crew's host: a runner's slice reports, an isolate's reports. */
export type RunnerUp = CrewSliceDone | IsolateReport;

/**
 * What a crew's host asks the process running the slices, which holds the journal and the vector
 * store: a model or embedding call (made, journaled and budgeted in the call's own scope); whether
 * an effect (`ctx.recorded`) is in the journal; the outcome of one the host ran, to record; a
 * vector search, upsert or delete (held in the call's own scope until its slice merges).
 */
export type CrewHostRequest = Extract<IsolateReport, { type: 'model' | 'effect' | 'effect-outcome' | 'embed' | 'vectors' }>;

/** What a call that ended on its host did: the actions it emitted, its writes, how long it ran. */
export type CrewCalled = Extract<Extract<IsolateReport, { type: 'ran' }>['results'][number], { outcome: 'called' }>;
