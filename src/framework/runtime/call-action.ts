import type { Action } from '../model/action.js';
import type { EventEnvelope } from '../model/event.js';
import type { EmittedAction } from '../ports/sinks.js';

/** The call an action came from: its event, its stream, and the ids of its output. */
export interface ActionOrigin {
  readonly envelope: EventEnvelope;
  readonly streamId: string;
  /** The deterministic id of the call's `index`-th action. */
  outputId(index: number): string;
}

/**
 * An action a call emitted. Its id and its `Action` object are made when something reads them
 * (a sink that de-duplicates, a runner's report, a dashboard): most runs never do, and the hot
 * path makes only the JSON every sink writes.
 */
export class CallAction implements EmittedAction {
  readonly json: string;
  readonly #origin: ActionOrigin;
  readonly #index: number;
  readonly #kind: string;
  readonly #payload: unknown;
  readonly #ttl: number;
  #action: Action | undefined;

  constructor(json: string, origin: ActionOrigin, index: number, kind: string, payload: unknown, ttl: number) {
    this.json = json;
    this.#origin = origin;
    this.#index = index;
    this.#kind = kind;
    this.#payload = payload;
    this.#ttl = ttl;
  }

  get action(): Action {
    return (this.#action ??= { ts: this.#origin.envelope.event.ts, kind: this.#kind, stream_id: this.#origin.streamId, payload: this.#payload, ttl_ms: this.#ttl });
  }

  get id(): string {
    return this.#origin.outputId(this.#index);
  }
}
