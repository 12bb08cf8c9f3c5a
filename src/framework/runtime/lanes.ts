import { StreamActionLines } from '../model/action.js';
import type { StreamContext } from '../context/stream-context.js';
import type { EventEnvelope } from '../model/event.js';
import type { StreamProgress } from '../scheduler/slice-target.js';
import type { OutputSlot } from './output-sequence.js';
import type { CrewRuntime, Route } from './route-table.js';

// The state behind DESIGN §8's lanes: one per (stream, crew), run one call at a time in arrival
// order; lanes run concurrently, within what a crew's `concurrency` and the slice merges allow.

/** A call waiting for its lane, its crew's concurrency or the merge of the slice before it. */
export interface QueuedCall {
  readonly route: Route;
  readonly slice: number;
  readonly envelope: EventEnvelope;
  /** Where its output goes, reserved when it was dispatched. */
  readonly slot: OutputSlot;
}

/** The calls of one crew on one stream, and the crew's error streak there. */
export class Lane {
  readonly crew: CrewRuntime;
  readonly stream: StreamLanes;
  /** Its writes of slice n merge at the close of n + lag. */
  readonly lag: number;
  #queue: QueuedCall[] = [];
  #head = 0;
  /** The slice of the call running now, while one runs. */
  running: number | undefined;
  consecutiveErrors = 0;
  disabled = false;
  /** The slice whose call disabled the crew on this stream. */
  disabledAt = Number.POSITIVE_INFINITY;

  /** @param lag - default: the crew's; an isolated crew's worker runs with 0 (its calls bring their own view) */
  constructor(crew: CrewRuntime, stream: StreamLanes, lag = crew.definition.lag) {
    this.crew = crew;
    this.stream = stream;
    this.lag = lag;
  }

  /** No call running or waiting. */
  get idle(): boolean {
    return this.running === undefined && this.#head === this.#queue.length;
  }

  /** The lowest slice of a call running or waiting (they are in slice order); Infinity when idle. */
  get firstSlice(): number {
    if (this.running !== undefined) return this.running;
    return this.#head < this.#queue.length ? this.#queue[this.#head]!.slice : Number.POSITIVE_INFINITY;
  }

  /** The next waiting call, if any. */
  peek(): QueuedCall | undefined {
    return this.#queue[this.#head];
  }

  /** The calls waiting, the next first. */
  *waiting(): IterableIterator<QueuedCall> {
    for (let i = this.#head; i < this.#queue.length; i++) yield this.#queue[i]!;
  }

  push(call: QueuedCall): void {
    this.#queue.push(call);
  }

  shift(): QueuedCall {
    const call = this.#queue[this.#head++]!;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    }
    return call;
  }

  /** Counts an error; true when it is the one that disables the crew on this stream (`maxErrors`). */
  countError(slice: number): boolean {
    this.consecutiveErrors++;
    const maxErrors = this.crew.knobs === undefined ? this.crew.definition.maxErrors : this.crew.knobs.forCall(this.stream.id, slice).maxErrors;
    const disables = !this.disabled && this.consecutiveErrors >= maxErrors;
    if (disables) {
      this.disabled = true;
      this.disabledAt = slice;
    }
    return disables;
  }
}

/** A slice the engine closed whose merge waits for calls still running. */
export interface PendingClose {
  readonly slice: number;
  readonly endMs: number;
  readonly progress: StreamProgress;
  /** Where a `ctx_size` record of the merge goes. */
  readonly slot: OutputSlot;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Someone waiting for crews to finish a slice (`SliceTarget.settle`). */
export interface SettleWait {
  readonly slice: number;
  readonly crews: readonly number[];
  readonly resolve: () => void;
}

/** One stream as the runner keeps it: its context, its lanes, the closes waiting to merge. */
export class StreamLanes {
  readonly id: string;
  readonly context: StreamContext;
  /** The stream's action lines, for its crews' `ctx.emit`. */
  readonly actionLines: StreamActionLines;
  /** By crew run-order index, made on a crew's first call. */
  readonly lanes: Array<Lane | undefined>;
  /** Closes not merged yet, in slice order. */
  readonly closes: PendingClose[] = [];
  readonly settleWaits: SettleWait[] = [];
  /** Calls of the stream running or waiting. */
  outstanding = 0;
  /** The commits of merged slices, in order; undefined when none is under way. */
  committing: Promise<void> | undefined;
  /** How many merged slices are waiting for their commit. */
  commitsQueued = 0;

  constructor(id: string, context: StreamContext, crewCount: number) {
    this.id = id;
    this.context = context;
    this.actionLines = new StreamActionLines(id);
    this.lanes = new Array<Lane | undefined>(crewCount);
  }

  /** Whether a call of `slice` may start: every slice before it the engine closed is merged. */
  mayStart(slice: number): boolean {
    return this.closes.length === 0 || this.closes[0]!.slice >= slice;
  }

  /** Whether slice `slice` may merge: no call whose writes merge in it or before is running or waiting. */
  mayMerge(slice: number): boolean {
    if (this.outstanding === 0) return true;
    for (const lane of this.lanes) if (lane !== undefined && lane.firstSlice + lane.lag <= slice) return false;
    return true;
  }

  /** Whether every one of `crews` has finished `slice`: no call of it or before running or waiting. */
  finished(slice: number, crews: readonly number[]): boolean {
    for (const crew of crews) if ((this.lanes[crew]?.firstSlice ?? Number.POSITIVE_INFINITY) <= slice) return false;
    return true;
  }
}

/** A crew's cap on calls in flight across streams (`concurrency`), and the lanes waiting for room. */
export class CrewGate {
  readonly limit: number;
  inFlight = 0;
  readonly #waiting: Lane[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get open(): boolean {
    return this.inFlight < this.limit;
  }

  wait(lane: Lane): void {
    if (!this.#waiting.includes(lane)) this.#waiting.push(lane);
  }

  /** The lane waiting longest, once there is room. */
  next(): Lane | undefined {
    return this.open ? this.#waiting.shift() : undefined;
  }
}
