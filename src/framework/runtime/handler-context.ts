import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { ContextSnapshot } from '../model/committed-context.js';
import type { ContextView, CrewContext, EmitOptions, VectorCollection } from '../ports/crew-context.js';

/** What a handler context forwards to: one handler call (a `CallScope`). */
type Call = CrewContext & ContextView;

let callBehind: (ctx: unknown) => Call | undefined;

/**
 * The `CrewContext` a handler (and an interceptor) receives: a facade over its call. It has the
 * documented members and nothing else: the call's controls (`end`, `commitWrites`, `failWith`)
 * cannot be reached from crew code by property, prototype walk or `in`.
 */
export class HandlerContext implements CrewContext {
  readonly #call: Call;
  #view: HandlerContextView | undefined;

  constructor(call: Call) {
    this.#call = call;
  }

  get crewId(): string {
    return this.#call.crewId;
  }

  get streamId(): string {
    return this.#call.streamId;
  }

  get slice(): number {
    return this.#call.slice;
  }

  get context(): ContextView {
    return (this.#view ??= new HandlerContextView(this.#call));
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }

  emit(kind: string, payload?: unknown, options?: EmitOptions): void {
    this.#call.emit(kind, payload, options);
  }

  model(name?: string): LanguageModelV3 {
    return this.#call.model(name);
  }

  recorded<T>(name: string, effect: () => T | Promise<T>): Promise<T> {
    return this.#call.recorded(name, effect);
  }

  embedder(name?: string): EmbeddingModelV3 {
    return this.#call.embedder(name);
  }

  vectors(collection: string): VectorCollection {
    return this.#call.vectors(collection);
  }

  static {
    callBehind = (ctx) => (typeof ctx === 'object' && ctx !== null && #call in ctx ? (ctx as HandlerContext).#call : undefined);
  }
}

/** `ctx.context`: the stream's context as the call sees it, and nothing else. */
class HandlerContextView implements ContextView {
  readonly #call: Call;

  constructor(call: Call) {
    this.#call = call;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#call.get<T>(key);
  }

  has(key: string): boolean {
    return this.#call.has(key);
  }

  set(key: string, value: unknown): void {
    this.#call.set(key, value);
  }

  delete(key: string): void {
    this.#call.delete(key);
  }

  snapshot(): ContextSnapshot {
    return this.#call.snapshot();
  }
}

/** The call behind a handler context the framework made, for framework code a handler's `ctx` is passed back to (an isolated crew's stand-in). */
export function callOf(ctx: unknown): Call | undefined {
  return callBehind(ctx);
}
