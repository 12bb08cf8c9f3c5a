import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { ACTION_TTL, encodeAction } from '../model/action.js';
import { jsonBytesOver } from '../model/json.js';
import { isUserKind } from '../model/patterns.js';
import type { ContextSnapshot, EmittedAction } from '../ports.js';
import { DELETED, type CrewSliceWrites } from '../context/stream-context.js';
import type { EventEnvelope } from '../scheduler/slice-engine.js';
import type { ContextView, CrewContext, EmitOptions } from './crew-context.js';

/** Action kinds already checked, shared by every call: a pattern runs once per kind. */
const checkedKinds = new Set<string>();

/**
 * One handler call: the `CrewContext` it was given, and the actions and writes it made, held
 * back until the call ends so a failed call leaves no trace.
 */
export class CallScope implements CrewContext, ContextView {
  readonly crewId: string;
  readonly streamId: string;
  readonly slice: number;
  readonly #envelope: EventEnvelope;
  readonly #previous: ContextSnapshot;
  readonly #crewWrites: CrewSliceWrites | undefined;
  readonly #payloadMaxBytes: number;
  #writes: Map<string, unknown> | undefined;
  #actions: EmittedAction[] | undefined;
  #open = true;

  constructor(
    crewId: string,
    slice: number,
    envelope: EventEnvelope,
    previous: ContextSnapshot,
    crewWrites: CrewSliceWrites | undefined,
    payloadMaxBytes: number,
  ) {
    this.crewId = crewId;
    this.streamId = envelope.event.stream_id;
    this.slice = slice;
    this.#envelope = envelope;
    this.#previous = previous;
    this.#crewWrites = crewWrites;
    this.#payloadMaxBytes = payloadMaxBytes;
  }

  get context(): ContextView {
    return this;
  }

  /** The actions emitted, in order. */
  get actions(): readonly EmittedAction[] {
    return this.#actions ?? [];
  }

  /** The keys written by this call and their values (`DELETED` for a deletion). */
  get writes(): ReadonlyMap<string, unknown> | undefined {
    return this.#writes;
  }

  /** Ends the call: later emits and writes (from a handler that kept `ctx`) throw. */
  end(): void {
    this.#open = false;
  }

  emit(kind: string, payload: unknown = {}, options?: EmitOptions): void {
    this.#checkOpen('emit');
    if (!checkedKinds.has(kind)) {
      if (typeof kind !== 'string' || !isUserKind(kind)) throw new HandlerOutputError(messages.emitInvalidKind(kind));
      if (checkedKinds.size < 10_000) checkedKinds.add(kind);
    }
    const ttl = options?.ttlMs ?? ACTION_TTL.default;
    if (!Number.isInteger(ttl) || ttl < ACTION_TTL.min || ttl > ACTION_TTL.max) throw new HandlerOutputError(messages.emitInvalidTtl(ttl));
    let payloadJson: string | undefined;
    try {
      payloadJson = JSON.stringify(payload);
    } catch (error) {
      throw new HandlerOutputError(messages.emitPayloadNotJson(kind, (error as Error).message), { cause: error });
    }
    if (payloadJson === undefined) throw new HandlerOutputError(messages.emitPayloadNotJson(kind, `got ${typeof payload}`));
    const over = jsonBytesOver(payloadJson, this.#payloadMaxBytes);
    if (over !== undefined) throw new HandlerOutputError(messages.emitPayloadTooLarge(kind, over, this.#payloadMaxBytes));
    const action = { ts: this.#envelope.event.ts, kind, stream_id: this.streamId, payload, ttl_ms: ttl };
    (this.#actions ??= []).push({ action, json: encodeAction(action, payloadJson) });
  }

  get<T = unknown>(key: string): T | undefined {
    const value = this.#read(key);
    return value === DELETED ? undefined : (value as T | undefined);
  }

  has(key: string): boolean {
    const value = this.#read(key);
    return value !== undefined && value !== DELETED;
  }

  set(key: string, value: unknown): void {
    this.#checkOpen('context.set');
    if (value === undefined) throw new HandlerOutputError(`context.set("${key}"): value is undefined; use context.delete to remove a key`);
    (this.#writes ??= new Map()).set(key, value);
  }

  delete(key: string): void {
    this.#checkOpen('context.delete');
    (this.#writes ??= new Map()).set(key, DELETED);
  }

  snapshot(): ContextSnapshot {
    const view: Record<string, unknown> = { ...this.#previous };
    for (const layer of [this.#crewWrites?.latest, this.#writes]) {
      if (layer === undefined) continue;
      for (const [key, value] of layer) {
        if (value === DELETED) delete view[key];
        else view[key] = value;
      }
    }
    return Object.freeze(view);
  }

  #read(key: string): unknown {
    const own = this.#writes?.get(key);
    if (own !== undefined) return own;
    const earlier = this.#crewWrites?.latest.get(key);
    if (earlier !== undefined) return earlier;
    return this.#previous[key];
  }

  #checkOpen(what: string): void {
    if (!this.#open) {
      throw new HandlerOutputError(`${this.crewId}: ${what} after the handler finished; await your work inside the handler`);
    }
  }
}
