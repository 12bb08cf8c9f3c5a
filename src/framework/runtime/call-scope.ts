import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { ACTION_TTL, encodeAction } from '../model/action.js';
import { jsonBytesOver } from '../model/json.js';
import { isUserKind } from '../model/patterns.js';
import type { ErrorReason } from '../model/error-record.js';
import type { ContextSnapshot, EmittedAction } from '../ports.js';
import { checkContextKey, frozenJsonCopy } from '../context/frozen-json.js';
import { DELETED, type StreamContext } from '../context/stream-context.js';
import type { EventEnvelope } from '../model/event.js';
import type { ContextView, CrewContext, EmitOptions } from './crew-context.js';
import type { Route } from './route-table.js';

/** Action kinds already checked, shared by every call: a pattern runs once per kind. */
const checkedKinds = new Set<string>();
const NO_ACTIONS: readonly EmittedAction[] = Object.freeze([]);

/** How a failed call failed: it threw, or it ran past its `timeoutMs`. */
export interface CallFailure {
  readonly reason: typeof ErrorReason.HandlerError | typeof ErrorReason.Timeout;
  readonly error: unknown;
  /** Whether this failure disabled the crew. */
  readonly disabledCrew: boolean;
}

/**
 * One handler call: the `CrewContext` it was given, and the actions and writes it made, held
 * back until the call ends so a failed call leaves no trace.
 */
export class CallScope implements CrewContext, ContextView {
  /** The handler this call runs. */
  readonly route: Route;
  readonly slice: number;
  readonly #envelope: EventEnvelope;
  readonly #context: StreamContext;
  readonly #payloadMaxBytes: number;
  /** Keys and values written, flat (`[key, value, key, value, ...]`): most calls write one or two. */
  #writes: unknown[] | undefined;
  #actions: EmittedAction[] | undefined;
  #open = true;
  /** Set when the call threw or rejected. */
  failure: CallFailure | undefined;

  /**
   * The stream's context is read lazily: most handlers never touch it. What a read sees cannot
   * change during the call: the crew's calls run one at a time, and a slice closes only after
   * every call in it has ended.
   */
  constructor(route: Route, slice: number, envelope: EventEnvelope, context: StreamContext, payloadMaxBytes: number) {
    this.route = route;
    this.slice = slice;
    this.#envelope = envelope;
    this.#context = context;
    this.#payloadMaxBytes = payloadMaxBytes;
  }

  get crewId(): string {
    return this.route.crew.definition.id;
  }

  get streamId(): string {
    return this.#envelope.event.stream_id;
  }

  get context(): ContextView {
    return this;
  }

  /** The actions emitted, in order. */
  get actions(): readonly EmittedAction[] {
    return this.#actions ?? NO_ACTIONS;
  }

  /** Adds this call's writes to its crew's writes of the slice, where its next calls read them. */
  commitWrites(): void {
    const writes = this.#writes;
    if (writes === undefined) return;
    const target = this.#context.writesOf(this.slice, this.route.crew.index);
    for (let i = 0; i < writes.length; i += 2) target.record(writes[i] as string, writes[i + 1]);
  }

  /** Ends the call: later emits and writes (from a handler that kept `ctx`) throw. */
  end(): void {
    this.#open = false;
  }

  /** Whether the call has ended (returned, thrown or been abandoned). */
  get ended(): boolean {
    return !this.#open;
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
    const actions = (this.#actions ??= []);
    actions.push({ action, json: encodeAction(action, payloadJson), id: this.#actionId(actions.length) });
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
    checkContextKey(key);
    if (value === undefined) throw new HandlerOutputError(messages.contextValueUndefined(key));
    (this.#writes ??= []).push(key, frozenJsonCopy(value, key));
  }

  delete(key: string): void {
    this.#checkOpen('context.delete');
    checkContextKey(key);
    (this.#writes ??= []).push(key, DELETED);
  }

  snapshot(): ContextSnapshot {
    const view: Record<string, unknown> = { ...this.#context.snapshot };
    const apply = (key: string, value: unknown) => {
      if (value === DELETED) delete view[key];
      else view[key] = value;
    };
    for (const [key, value] of this.#crewWrites()?.entries() ?? []) apply(key, value);
    const writes = this.#writes ?? [];
    for (let i = 0; i < writes.length; i += 2) apply(writes[i] as string, writes[i + 1]);
    return Object.freeze(view);
  }

  #read(key: string): unknown {
    const writes = this.#writes;
    if (writes !== undefined) {
      for (let i = writes.length - 2; i >= 0; i -= 2) if (writes[i] === key) return writes[i + 1];
    }
    const earlier = this.#crewWrites()?.latest(key);
    if (earlier !== undefined) return earlier;
    return this.#context.snapshot[key];
  }

  /** What this crew wrote earlier in the slice. */
  #crewWrites() {
    return this.#context.peekWrites(this.slice, this.route.crew.index);
  }

  /** The index-th action of this call: unique per input record, handler and index. */
  #actionId(index: number): string {
    return `${this.streamId}:${this.slice}:${this.crewId}.${this.route.handler.method}:${this.#envelope.position}:${index}`;
  }

  #checkOpen(what: string): void {
    if (!this.#open) {
      throw new HandlerOutputError(messages.callEnded(this.crewId, what));
    }
  }
}
