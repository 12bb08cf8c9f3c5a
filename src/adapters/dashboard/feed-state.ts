import type { CrewDefinition } from '../../framework/discovery/crew-definition.js';
import type { CrewStatus, CrewView, DashboardView, SliceView, StreamView } from './dashboard-view.js';

// What the dashboard feed keeps of a run, and how it turns into the views a page shows.

/** Work a crew has running: a handler call, or (seen over NATS) a slice of work; `atMs` is its event time. */
export interface Work {
  readonly crew: CrewState;
  readonly stream: string;
  readonly atMs: number;
}

export interface CrewState {
  readonly id: string;
  readonly triggers: readonly string[];
  readonly dependencies: CrewView['dependencies'];
  readonly lag: number;
  readonly isolation: string | undefined;
  readonly running: Set<Work>;
  calls: number;
  actions: number;
  errors: number;
  errorStreak: number;
  disabled: boolean;
  inputTokens: number;
  outputTokens: number;
}

export interface SliceState {
  events: number;
  actions: number;
  errors: number;
  changed: boolean;
  closed: boolean;
}

export interface StreamState {
  readonly id: string;
  events: number;
  /** The stream's first event time: from its first event, corrected by each slice close. */
  epoch0: number | undefined;
  /** The end (event time) of its latest closed slice. */
  closedEnd: number;
  readonly slices: Map<number, SliceState>;
  context: Readonly<Record<string, unknown>>;
  lastChange: StreamView['lastChange'];
}

/** The crews as the page shows them: each one's status, and what it waits on. */
export function crewViews(crews: Iterable<CrewState>, streams: ReadonlyMap<string, StreamState>, sliceMs: number, mode: DashboardView['mode']): CrewView[] {
  const views = [...crews].map((crew) => ({ crew, slicesBehind: slicesBehind(crew, streams, sliceMs) }));
  const busy = new Set(views.filter(({ crew, slicesBehind }) => crew.running.size > 0 || slicesBehind > 0).map(({ crew }) => crew.id));
  return views.map(({ crew, slicesBehind }) => {
    const waitingOn = crew.dependencies.filter((dep) => dep.crew !== undefined && dep.offset === 0 && busy.has(dep.crew)).map((dep) => dep.crew!);
    const status: CrewStatus = crew.disabled ? 'disabled' : slicesBehind > 0 ? 'lagging' : crew.running.size > 0 ? 'running' : waitingOn.length > 0 ? 'waiting' : 'idle';
    return {
      id: crew.id,
      triggers: crew.triggers,
      dependencies: crew.dependencies,
      lag: crew.lag,
      ...(crew.isolation !== undefined ? { isolation: crew.isolation } : {}),
      status,
      waitingOn: status === 'waiting' ? waitingOn : [],
      inFlight: crew.running.size,
      calls: crew.calls,
      actions: crew.actions,
      errors: crew.errors,
      errorStreak: mode === 'viewer' ? null : crew.errorStreak,
      slicesBehind,
      inputTokens: crew.inputTokens,
      outputTokens: crew.outputTokens,
    };
  });
}

/** How many closed slices behind its stream the crew's oldest running work is. */
function slicesBehind(crew: CrewState, streams: ReadonlyMap<string, StreamState>, sliceMs: number): number {
  let behind = 0;
  for (const work of crew.running) {
    const closedEnd = streams.get(work.stream)?.closedEnd ?? Number.NEGATIVE_INFINITY;
    if (work.atMs < closedEnd) behind = Math.max(behind, Math.ceil((closedEnd - work.atMs) / sliceMs));
  }
  return behind;
}

/** The streams as the page shows them: their recent slices, open or closed, and their context. */
export function streamViews(streams: Iterable<StreamState>, sliceMs: number): StreamView[] {
  return [...streams].map((stream) => ({
    id: stream.id,
    events: stream.events,
    slices: [...stream.slices]
      .sort(([a], [b]) => a - b)
      .map(
        ([slice, state]): SliceView => ({
          slice,
          state: isClosed(stream, slice, state, sliceMs) ? 'closed' : 'open',
          events: state.events,
          actions: state.actions,
          errors: state.errors,
          changed: state.changed,
        }),
      ),
    context: stream.context,
    ...(stream.lastChange !== undefined ? { lastChange: stream.lastChange } : {}),
  }));
}

/** Closed: told so, or before the stream's latest closed slice (a late event's slice, closed before it came). */
function isClosed(stream: StreamState, slice: number, state: SliceState, sliceMs: number): boolean {
  return state.closed || (sliceEnd(stream, sliceMs, slice) ?? Number.POSITIVE_INFINITY) <= stream.closedEnd;
}

/** Where a slice of the stream ends in event time, once its epoch0 is known. */
export function sliceEnd(stream: StreamState, sliceMs: number, slice: number): number | undefined {
  return stream.epoch0 === undefined ? undefined : stream.epoch0 + (slice + 1) * sliceMs;
}

/** The crew and slice an action's id names (`<stream>:<slice>:<crew>.<method>:…`); crew '' when it names none. */
export function actionOrigin(id: string): { crew: string; slice: number | undefined } {
  const afterStream = id.indexOf(':');
  const afterSlice = afterStream < 0 ? -1 : id.indexOf(':', afterStream + 1);
  const dot = afterSlice < 0 ? -1 : id.indexOf('.', afterSlice);
  if (dot < 0) return { crew: '', slice: undefined };
  const slice = Number(id.slice(afterStream + 1, afterSlice));
  return { crew: id.slice(afterSlice + 1, dot), slice: Number.isInteger(slice) ? slice : undefined };
}

/** A crew's state before anything happened: from its definition, or only its id. */
export function crewState(crew: Pick<CrewDefinition, 'id'> & Partial<CrewDefinition>): CrewState {
  return {
    id: crew.id,
    triggers: (crew.handlers ?? []).flatMap((handler) => (handler.trigger.any ? ['*'] : handler.trigger.kinds)),
    dependencies: (crew.dependencies ?? []).map((dep) => (dep.type === 'crew' ? { crew: dep.crew, offset: dep.offset } : { event: dep.event, offset: dep.offset })),
    lag: crew.lag ?? 0,
    isolation: crew.isolation,
    running: new Set(),
    calls: 0,
    actions: 0,
    errors: 0,
    errorStreak: 0,
    disabled: false,
    inputTokens: 0,
    outputTokens: 0,
  };
}
