/**
 * The keys of the decisions a run journals (DESIGN §4, §9), in one place, with whose decision
 * each is (DESIGN §5 amendments: decisions are owned). The slice engine's are the scheduler's:
 * ticks, ended waits, refused future events. A crew's handler calls make its own: timeouts,
 * model answers and budget refusals, recorded effects, reloads. A distributed journal stores
 * each under its owner's subject and takes an entry only from there, so no process can decide
 * for a crew it does not run.
 */

/** Whose decision a key is: the scheduler's (its slice engine), or one crew's. */
export type DecisionOwner = { readonly scheduler: true; readonly crew?: undefined } | { readonly scheduler?: false; readonly crew: string };

/** The scheduler, as the owner of the slice engine's decisions. */
export const SCHEDULER_OWNER: DecisionOwner = { scheduler: true };

/** A crew, as the owner of its calls' decisions. */
export function crewOwner(crew: string): DecisionOwner {
  return { crew };
}

/** Whether two owners are the same. */
export function sameOwner(a: DecisionOwner, b: DecisionOwner): boolean {
  return a.scheduler === true ? b.scheduler === true : a.crew === b.crew;
}

/** A live tick that closed slices: after how many input events, and which tick since that event. */
export function tickDecision(accepted: number, tick: number): string {
  return `tick:${accepted}:${tick}`;
}

/** A crew's wait ended early: which crew, which slice, after how many input events (the engine's decision). */
export function waitDecision(crew: string, streamId: string, slice: number, accepted: number): string {
  return `wait:${crew}:${streamId}:${slice}:${accepted}`;
}

/** An event refused for being stamped too far ahead of the wall clock. */
export function futureDecision(streamId: string, position: number): string {
  return `future:${streamId}:${position}`;
}

/** A handler call's timeout: which handler, on which event of which slice. */
export function timeoutDecision(crew: string, method: string, streamId: string, slice: number, position: number): string {
  return `timeout:${crew}.${method}:${streamId}:${slice}:${position}`;
}

/** A handler call, as its `CallScope` shows it: in a key, unique per stream, slice, handler and input record. */
export interface CallOfDecision {
  readonly streamId: string;
  readonly slice: number;
  readonly crewId: string;
  readonly route: { readonly handler: { readonly method: string } };
  readonly envelope: { readonly position: number };
}

/** The `index`-th model call of a handler call. */
export function modelCallDecision(call: CallOfDecision, index: number): string {
  return `model:${callPart(call)}:${index}`;
}

/** A model call refused by calls per minute (wall time): the model call's key behind `budget:`. */
export function budgetDecision(modelCall: string): string {
  return `budget:${modelCall}`;
}

/** The `index`-th recorded effect of a handler call (a vector search, an embedding, `ctx.recorded`). */
export function effectDecision(call: CallOfDecision, index: number): string {
  return `effect:${callPart(call)}:${index}`;
}

/** A crew's `version`-th knobs (0 those a watched run started with). */
export function knobsDecision(crew: string, version: number): string {
  return `knobs:${crew}:${version}`;
}

/** A YAML crew's `version`-th definition (0 the one a watched run started with, 1 the first reload). */
export function reloadDecision(crew: string, version: number): string {
  return `reload:${crew}:${version}`;
}

function callPart({ streamId, slice, crewId, route, envelope }: CallOfDecision): string {
  return `${streamId}:${slice}:${crewId}.${route.handler.method}:${envelope.position}`;
}

/** Per key prefix, the field of the key (split at `:`) that names the owning crew; -1 for the scheduler's. */
const OWNER_FIELD: Readonly<Record<string, number>> = { tick: -1, wait: -1, future: -1, timeout: 1, model: 3, effect: 3, knobs: 1, reload: 1, budget: 4 };

/**
 * Whose decision `key` is, read from the key as the builders above make it; undefined for a key
 * none of them makes (an entry no live-crew process wrote).
 */
export function decisionOwner(key: string): DecisionOwner | undefined {
  const fields = key.split(':');
  const field = OWNER_FIELD[fields[0]!];
  if (field === undefined) return undefined;
  if (field < 0) return SCHEDULER_OWNER;
  // A handler's fields are `<crew>.<method>`; crew ids hold no dots.
  const crew = fields[field]?.split('.')[0];
  return crew === undefined || crew === '' ? undefined : crewOwner(crew);
}

/** Per key prefix, the field of the key (split at `:`) that names its stream; the others name none. */
const STREAM_FIELD: Readonly<Record<string, number>> = { wait: 2, future: 1, timeout: 2, model: 1, effect: 1, budget: 2 };

/** The stream decision `key` was taken on, read from the key; undefined for a key of no stream (a tick, a reload). */
export function decisionStream(key: string): string | undefined {
  const fields = key.split(':');
  const field = STREAM_FIELD[fields[0]!];
  return field === undefined ? undefined : fields[field];
}
