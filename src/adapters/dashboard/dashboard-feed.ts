import { CONFIG_DEFAULTS } from '../../framework/config/config-schema.js';
import type { CrewDefinition } from '../../framework/discovery/crew-definition.js';
import { isPromiseLike } from '../../framework/maybe-async.js';
import type { ContextRecord } from '../../framework/model/context-record.js';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import type { Event } from '../../framework/model/event.js';
import type { PoolView } from '../../framework/distributed/pool-view.js';
import { sliceIndex } from '../../framework/model/slice.js';
import type { ModelCallReport, RunObserver } from '../../framework/ports/run-observer.js';
import type { EmittedAction } from '../../framework/ports/sinks.js';
import type { Interceptor } from '../../framework/ports/interceptor.js';
import { LatestRecords } from './latest-records.js';
import { SLICES_KEPT, type ActionView, type DashboardPatch, type DashboardView, type ErrorView, type ModelCallView } from './dashboard-view.js';
import { actionOrigin, crewState, crewViews, sliceEnd, streamViews, type CrewState, type SliceState, type StreamState, type Work } from './feed-state.js';

/** What a feed shows, beside what it is told. */
export interface DashboardFeedOptions {
  readonly mode: DashboardView['mode'];
  readonly title: string;
  /** How often patches go out, in ms (default 150): the page updates at most this often. */
  readonly flushMs?: number;
}

/** The run a feed shows, once its app is made. */
export interface DashboardRun {
  readonly sliceMs: number;
  /** The crews, in run order; a NATS viewer without them learns crews as they show up. */
  readonly crews?: readonly CrewDefinition[];
}

/**
 * The most streams a feed keeps: the most recently active, a stream the engine forgets as idle
 * going at once. A page shows this many at most; a process serving streams without end keeps no
 * view of each one forever.
 */
export const STREAMS_KEPT = 100;
/** The most crews and runners a feed learns of beyond the run's own (a viewer learns them from subjects anyone may publish). */
const LEARNED_KEPT = 64;

/** Error reasons that count in a crew's error streak (`maxErrors` counts these). */
const STREAK_REASONS = new Set(['handler_error', 'timeout']);

/**
 * What the dev dashboard shows, kept from the engine's observer hooks and an interceptor around
 * handler calls (in process), or from a NATS stream's subjects (a viewer). Pages subscribe: each
 * gets the whole view, then a patch at most every `flushMs` while something changed. A run
 * without `--ui` has no feed, so it costs nothing then.
 */
export class DashboardFeed implements RunObserver {
  /** Counts each handler call; one that goes on past its start is running until it ends (the app's outermost interceptor). */
  readonly interceptor: Interceptor;
  readonly #options: DashboardFeedOptions;
  readonly #crews = new Map<string, CrewState>();
  readonly #streams = new Map<string, StreamState>();
  readonly #runners = new Map<string, boolean>();
  readonly #actions = new LatestRecords<ActionView>();
  readonly #errors = new LatestRecords<ErrorView>();
  readonly #modelCalls = new LatestRecords<ModelCallView>();
  #counts = { events: 0, actions: 0, errors: 0, modelCalls: 0 };
  /** How many crews the run described: the rest were learned as they showed up. */
  #described = 0;
  /** `slice_ms`: the default until `describeRun` says. */
  #sliceMs = CONFIG_DEFAULTS.slice_ms;
  #seq = 0;
  #finished = false;
  #dirty = false;
  #pool: PoolView | undefined;
  readonly #listeners = new Set<(patch: DashboardPatch) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DashboardFeedOptions) {
    this.#options = options;
    this.interceptor = {
      intercept: (call, next) => {
        const crew = this.#crew(call.crew);
        crew.calls++;
        this.#dirty = true;
        const result = next();
        if (!isPromiseLike(result)) {
          crew.errorStreak = 0;
          return result;
        }
        // Only a call that goes on past its start is ever seen running.
        const work = this.#startWork(crew, call.event.stream_id, Date.parse(call.event.ts));
        return result.then(
          (value) => {
            this.workEnded(work, true);
            return value;
          },
          (error: unknown) => {
            this.workEnded(work, false);
            throw error;
          },
        );
      },
    };
  }

  /** Sets the slice length and the crews (in run order, before any other they were told of). */
  describeRun(run: DashboardRun): void {
    this.#sliceMs = run.sliceMs;
    const seen = [...this.#crews.values()];
    this.#crews.clear();
    for (const crew of run.crews ?? []) this.#crews.set(crew.id, crewState(crew));
    this.#described = this.#crews.size;
    for (const crew of seen) if (!this.#crews.has(crew.id)) this.#crews.set(crew.id, crew);
    this.#dirty = true;
  }

  /** Sends patches every `flushMs` until `close()`. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.flush(), this.#options.flushMs ?? 150);
    this.#timer.unref();
  }

  /** Sends what is left and stops. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  /** Tells `listener` the whole view now, then each patch; returns the unsubscribe. */
  subscribe(listener: (patch: DashboardPatch) => void, whole: (view: DashboardView) => void): () => void {
    // What is pending goes to the pages already here, so the new one's view holds it exactly once.
    this.flush();
    whole(this.view());
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Everything the dashboard shows now. */
  view(): DashboardView {
    return {
      mode: this.#options.mode,
      title: this.#options.title,
      sliceMs: this.#sliceMs,
      finished: this.#finished,
      counts: { ...this.#counts },
      crews: crewViews(this.#crews.values(), this.#streams, this.#sliceMs, this.#options.mode),
      streams: streamViews(this.#streams.values(), this.#sliceMs),
      runners: this.#runnerViews(),
      actions: this.#actions.latest(),
      errors: this.#errors.latest(),
      modelCalls: this.#modelCalls.latest(),
      ...(this.#pool !== undefined ? { pool: this.#pool } : {}),
    };
  }

  /** Sends a patch to every page if anything changed since the last. */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const [actions, errors, modelCalls] = [this.#actions.takeNew(), this.#errors.takeNew(), this.#modelCalls.takeNew()];
    if (this.#listeners.size === 0) return;
    const patch: DashboardPatch = {
      finished: this.#finished,
      counts: { ...this.#counts },
      crews: crewViews(this.#crews.values(), this.#streams, this.#sliceMs, this.#options.mode),
      streams: streamViews(this.#streams.values(), this.#sliceMs),
      runners: this.#runnerViews(),
      actions,
      errors,
      modelCalls,
      ...(this.#pool !== undefined ? { pool: this.#pool } : {}),
    };
    for (const listener of this.#listeners) listener(patch);
  }

  /** What a pool over NATS is doing now (`dev --nats-url`). */
  poolSeen(pool: PoolView): void {
    this.#pool = pool;
    this.#dirty = true;
  }

  /** The run's input is done: every slice is closed. */
  finish(): void {
    this.#finished = true;
    this.#dirty = true;
  }

  eventAccepted(event: Event): void {
    this.eventSeen(event.stream_id, Date.parse(event.ts));
  }

  /** An event of the stream at event time `ts` (epoch ms) was taken in. */
  eventSeen(streamId: string, ts: number): void {
    const stream = this.#stream(streamId);
    stream.epoch0 ??= ts;
    stream.events++;
    this.#slice(stream, sliceIndex(ts, stream.epoch0, this.#sliceMs)).events++;
    this.#counts.events++;
    this.#dirty = true;
  }

  actionsSent(actions: readonly EmittedAction[]): void {
    for (const { action, id } of actions) this.actionSent(action, id);
  }

  /** One action, with its deterministic id (`<stream>:<slice>:<crew>.<method>:…`), which names its crew and slice. */
  actionSent(action: { readonly ts: string; readonly kind: string; readonly stream_id: string; readonly payload: unknown }, id: string): void {
    const { crew, slice: known } = actionOrigin(id);
    // Output comes after its events: a stream it names and the feed does not know was forgotten.
    const stream = this.#streams.get(action.stream_id);
    if (known !== undefined && stream !== undefined) this.#slice(stream, known).actions++;
    this.#crew(crew).actions++;
    const view: ActionView = { seq: ++this.#seq, ts: action.ts, kind: action.kind, stream: action.stream_id, crew, slice: known, payload: action.payload };
    this.#actions.add(view);
    this.#counts.actions++;
    this.#dirty = true;
  }

  errorsSent(errors: readonly ErrorRecord[]): void {
    for (const { ts, stream_id: stream, payload } of errors) {
      const { reason, message, crew, slice, source } = payload;
      const known = this.#streams.get(stream);
      if (slice !== undefined && known !== undefined) this.#slice(known, slice).errors++;
      if (crew !== undefined) {
        const state = this.#crew(crew);
        state.errors++;
        if (STREAK_REASONS.has(reason)) state.errorStreak++;
        if (reason === 'disabled') state.disabled = true;
      }
      const view: ErrorView = {
        seq: ++this.#seq,
        ts,
        stream,
        reason,
        message,
        ...(crew !== undefined ? { crew } : {}),
        ...(slice !== undefined ? { slice } : {}),
        ...(source !== undefined ? { source } : {}),
      };
      this.#errors.add(view);
      this.#counts.errors++;
    }
    this.#dirty = true;
  }

  /** @param endMs - the slice's end in event time; a NATS viewer, which does not see it, gives none */
  sliceClosed(streamId: string, slice: number, endMs?: number): void {
    const stream = this.#stream(streamId);
    if (endMs !== undefined) stream.epoch0 = endMs - (slice + 1) * this.#sliceMs;
    const end = sliceEnd(stream, this.#sliceMs, slice);
    if (end !== undefined) stream.closedEnd = Math.max(stream.closedEnd, end);
    this.#slice(stream, slice).closed = true;
    this.#dirty = true;
  }

  contextChanged(record: ContextRecord): void {
    const stream = this.#stream(record.stream_id);
    const { slice, context, changed, deleted } = record.payload;
    stream.context = context;
    stream.lastChange = { slice, ts: record.ts, changed, deleted };
    this.#slice(stream, slice).changed = true;
    this.#dirty = true;
  }

  modelCalled(call: ModelCallReport): void {
    const crew = this.#crew(call.crew);
    crew.inputTokens += call.inputTokens;
    crew.outputTokens += call.outputTokens;
    const view: ModelCallView = { seq: ++this.#seq, at: new Date().toISOString(), ...call };
    this.#modelCalls.add(view);
    this.#counts.modelCalls++;
    this.#dirty = true;
  }

  runnerSilent(runner: string, silent: boolean): void {
    if (!this.#runners.has(runner) && this.#runners.size >= LEARNED_KEPT) return;
    this.#runners.set(runner, silent);
    this.#dirty = true;
  }

  /** A process was heard from (a NATS viewer learns runners from their heartbeats). */
  runnerHeard(runner: string): void {
    if (!this.#runners.has(runner)) this.runnerSilent(runner, false);
  }

  /** `crew` started work on an event of `stream` at event time `atMs`; end it with `workEnded`. */
  workStarted(crew: string, stream: string, atMs: number): Work {
    const state = this.#crew(crew);
    state.calls++;
    return this.#startWork(state, stream, atMs);
  }

  #startWork(crew: CrewState, stream: string, atMs: number): Work {
    const work: Work = { crew, stream, atMs };
    crew.running.add(work);
    this.#dirty = true;
    return work;
  }

  /** Work ended: one known to have succeeded ends the crew's error streak. */
  workEnded(work: Work, succeeded: boolean): void {
    work.crew.running.delete(work);
    if (succeeded) work.crew.errorStreak = 0;
    this.#dirty = true;
  }

  /** The crew finished slice `slice` of a stream (a NATS viewer's `done` report): its work up to that slice's end ended. */
  workOfSliceEnded(crew: string, streamId: string, slice: number, disabled: boolean): void {
    const state = this.#crew(crew);
    const end = sliceEnd(this.#stream(streamId), this.#sliceMs, slice) ?? Number.POSITIVE_INFINITY;
    // Whether its calls succeeded is not published: a viewer shows no error streak.
    for (const work of state.running) if (work.stream === streamId && work.atMs < end) this.workEnded(work, false);
    if (disabled) state.disabled = true;
    this.#dirty = true;
  }

  /** The engine forgot an idle stream: so does the view. */
  streamForgotten(streamId: string): void {
    if (this.#streams.delete(streamId)) this.#dirty = true;
  }

  /** A crew's state; one learned past the run's crews and LEARNED_KEPT others is counted nowhere. */
  #crew(id: string): CrewState {
    let crew = this.#crews.get(id);
    if (crew === undefined) {
      crew = crewState({ id });
      if (this.#crews.size - this.#described < LEARNED_KEPT) this.#crews.set(id, crew);
    }
    return crew;
  }

  /** A stream's state, now the most recently active: past STREAMS_KEPT, the least recently active is forgotten. */
  #stream(id: string): StreamState {
    let stream = this.#streams.get(id);
    if (stream !== undefined) {
      if (this.#streams.size > 1) {
        this.#streams.delete(id);
        this.#streams.set(id, stream);
      }
      return stream;
    }
    stream = { id, events: 0, epoch0: undefined, closedEnd: Number.NEGATIVE_INFINITY, slices: new Map(), context: {}, lastChange: undefined };
    this.#streams.set(id, stream);
    if (this.#streams.size > STREAMS_KEPT) this.#streams.delete(this.#streams.keys().next().value!);
    return stream;
  }

  #slice(stream: StreamState, slice: number): SliceState {
    let state = stream.slices.get(slice);
    if (state === undefined) {
      state = { events: 0, actions: 0, errors: 0, changed: false, closed: false };
      stream.slices.set(slice, state);
      if (stream.slices.size > SLICES_KEPT) stream.slices.delete(Math.min(...stream.slices.keys()));
    }
    return state;
  }

  #runnerViews(): DashboardView['runners'] {
    return [...this.#runners].map(([name, silent]) => ({ name, silent }));
  }
}
