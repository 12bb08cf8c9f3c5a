import type { Action } from '../model/action.js';
import type { EventEnvelope } from '../model/event.js';
import type { EmittedAction } from '../ports/sinks.js';
import type { Route } from './route-table.js';

/**
 * The deterministic id of a call's `index`-th action (or vector point), the same in every run of
 * the same input: `<stream>:<slice>:<crew>.<method>:<position>:<index>`.
 */
export function outputId(envelope: EventEnvelope, route: Route, slice: number, index: number): string {
  return `${envelope.event.stream_id}:${slice}:${route.crew.definition.id}.${route.handler.method}:${envelope.position}:${index}`;
}

/**
 * An action a call emitted. Its id and its `Action` object are made when something reads them
 * (a sink that de-duplicates, a runner's report, a dashboard): most runs never do, and the hot
 * path makes only the JSON every sink writes.
 */
export class CallAction implements EmittedAction {
  readonly json: string;
  readonly #envelope: EventEnvelope;
  readonly #route: Route;
  readonly #slice: number;
  readonly #index: number;
  readonly #kind: string;
  readonly #payload: unknown;
  readonly #ttl: number;
  #action: Action | undefined;

  constructor(json: string, envelope: EventEnvelope, route: Route, slice: number, index: number, kind: string, payload: unknown, ttl: number) {
    this.json = json;
    this.#envelope = envelope;
    this.#route = route;
    this.#slice = slice;
    this.#index = index;
    this.#kind = kind;
    this.#payload = payload;
    this.#ttl = ttl;
  }

  get action(): Action {
    const event = this.#envelope.event;
    return (this.#action ??= { ts: event.ts, kind: this.#kind, stream_id: event.stream_id, payload: this.#payload, ttl_ms: this.#ttl });
  }

  get id(): string {
    return outputId(this.#envelope, this.#route, this.#slice, this.#index);
  }
}
