import type { ReloadableKnobs } from '../discovery/crew-knobs.js';
import type { EventEnvelope } from '../model/event.js';
import type { VectorWrite } from '../model/vector.js';
import type { FrameworkVerdict } from './framework-verdict.js';
import type { Lane } from './lanes.js';
import type { Route } from './route-table.js';

/**
 * A handler call as the framework's services of a call (model calls, recorded effects, vector
 * calls) see it: where it runs, its signal, its numbering of journaled decisions, and a way to
 * fail it from inside. `CallScope` is the one implementation; the services depend on this
 * contract, not on the scope, so neither imports the other.
 */
export interface CallSite {
  /** The handler this call runs. */
  readonly route: Route;
  /** Its crew's lane on its stream. */
  readonly lane: Lane;
  readonly slice: number;
  readonly crewId: string;
  readonly streamId: string;
  /** The event the call is for. */
  readonly envelope: EventEnvelope;
  readonly signal: AbortSignal;
  /** Whether the call has ended (returned, thrown or been abandoned). */
  readonly ended: boolean;
  /** The crew's reloadable knobs as they are for this call. */
  knobs(): ReloadableKnobs;
  /** Numbers the call's model calls in the order they start: their journal keys. */
  nextModelCall(): number;
  /** Numbers the call's recorded effects in the order they start: their journal keys. */
  nextEffect(): number;
  /** The id of the call's next point upserted without one: the same in every run of the same input. */
  nextVectorId(): string;
  /** Holds a vector upsert or delete until the call's slice merges; dropped if the call fails. */
  holdVectorWrite(write: VectorWrite): void;
  /** Fails the call from inside, whatever its handler does next. The first verdict stays. */
  failWith(verdict: FrameworkVerdict): void;
}
