/**
 * What a handler receives beside the event (DESIGN §3): the contract between the core and crew code.
 */
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { ContextSnapshot } from '../model/committed-context.js';
import type { VectorFilter, VectorHit, VectorPayload } from '../model/vector.js';

/**
 * A stream's shared context as a handler sees it in slice n: the merged snapshot S(n-1), plus
 * what its own crew wrote earlier in slice n. Writes of other crews in slice n become visible in
 * slice n+1. Values are top-level keys holding JSON values.
 */
export interface ContextView {
  /** The value of a key, or undefined. */
  get<T = unknown>(key: string): T | undefined;
  has(key: string): boolean;
  /** Writes a key; merged into the shared context when the slice closes. */
  set(key: string, value: unknown): void;
  /** Removes a key when the slice closes. */
  delete(key: string): void;
  /** Every key as this handler sees it, as a frozen object. */
  snapshot(): ContextSnapshot;
}

/** Options of `ctx.emit`. */
export interface EmitOptions {
  /** How long the action stays relevant, in ms: 1..300000, default 5000. */
  ttlMs?: number;
}

/** A point to upsert: its text (embedded by the collection's embedder), or its vector, or both. */
export interface VectorDocument {
  /** Default: made from the call (`<stream>:<slice>:<crew>.<method>:<position>:<n>`), the same in a replay. */
  readonly id?: string;
  /** The text the point stands for; embedded unless `vector` is given, and returned with hits. */
  readonly text?: string;
  readonly vector?: readonly number[];
  /** JSON kept with the point, returned with hits and matched by filters. */
  readonly payload?: VectorPayload;
}

/** Options of a search. */
export interface VectorSearchOptions {
  /** How many points, at most (1..1000, default 10). */
  readonly topK?: number;
  /** Only points whose payload matches: `{ kind: 'goal' }`, `{ kind: ['goal', 'card'] }`. */
  readonly filter?: VectorFilter;
}

/**
 * A vector collection as a handler call sees it (`ctx.vectors(name)`, DESIGN §10). A search is a
 * recorded decision: a replay gets the recorded hits even though the store has changed since.
 * Upserts and deletes are held until the call's slice merges, then applied in merge order; a call
 * that fails or times out applies none. A search sees what every slice before the call's has
 * applied, not its own slice's.
 */
export interface VectorCollection {
  readonly name: string;
  /**
   * The points nearest a text (embedded by the collection's embedder) or a vector, nearest first.
   *
   * @throws HandlerOutputError for a bad query or options
   */
  search(query: string | readonly number[], options?: VectorSearchOptions): Promise<VectorHit[]>;
  /**
   * Holds points to insert or replace when the call's slice merges; texts are embedded now.
   * Resolves with their ids.
   *
   * @throws HandlerOutputError for a bad document (no text or vector, a vector of another dimension, a payload that is not JSON)
   */
  upsert(documents: VectorDocument | readonly VectorDocument[]): Promise<string[]>;
  /** Holds the removal of points when the call's slice merges. */
  delete(ids: string | readonly string[]): void;
}

/**
 * What a handler receives beside the event: the stream's context and a way to emit actions.
 * Actions and writes of a call take effect only if it returns (or resolves) normally: a call
 * that throws leaves no trace but its error record.
 */
export interface CrewContext {
  /** The crew's id. */
  readonly crewId: string;
  /** The stream the event belongs to. */
  readonly streamId: string;
  /** The slice the event belongs to. */
  readonly slice: number;
  /** The shared context of the stream. */
  readonly context: ContextView;
  /**
   * Aborted when the call is given up: at its `timeoutMs`, when the app stops, or when the call
   * is abandoned (its crew disabled, a promise that can never settle). Pass it to `fetch`, model
   * and database calls so they end with the call instead of running on unseen.
   */
  readonly signal: AbortSignal;
  /**
   * Emits an action on this stream, stamped with the event's `ts`.
   *
   * @throws HandlerOutputError for a bad kind or ttl, or a payload that is not JSON or too large
   */
  emit(kind: string, payload?: unknown, options?: EmitOptions): void;
  /**
   * A model configured under `models:` (DESIGN §9), for the AI SDK: `generateText({ model:
   * ctx.model('commentator'), prompt, abortSignal: ctx.signal })`, `generateObject`, `streamText`.
   * Every answer is journaled and replayed exactly; the call ends with `ctx.signal`; the crew's
   * `maxTokensPerSlice` and `maxCallsPerMinute` apply (over them the handler call fails as
   * `budget`); 429s and 5xx are retried. Without a name: the crew's `model`, else the only model
   * configured, else the one named `default`.
   *
   * @throws HandlerOutputError for a name that is not configured
   */
  model(name?: string): LanguageModelV3;
  /**
   * Runs `effect` (a fetch, a tool, a database read: anything outside) and journals its result,
   * a JSON value: with `--journal` it is recorded, and a `--replay` (or a successor resuming the
   * run) returns the recorded result, or throws the recorded failure, without running it. Use it
   * for what an AI SDK tool's `execute` does, so an agent's replay is exact.
   *
   * @example
   * ```ts
   * const weather = await ctx.recorded('weather', () => fetch(url, { signal: ctx.signal }).then((r) => r.json()));
   * ```
   */
  recorded<T>(name: string, effect: () => T | Promise<T>): Promise<T>;
  /**
   * An embedding model configured under `embedders:` (DESIGN §10), for the AI SDK: `embed({
   * model: ctx.embedder(), value })`. Every answer is journaled and replayed exactly. Without a
   * name: `vector.embedder`, else the only embedder configured, else the one named `default`.
   *
   * @throws HandlerOutputError for a name that is not configured
   */
  embedder(name?: string): EmbeddingModelV3;
  /**
   * A collection of the vector store configured under `vector:` (DESIGN §10): search it, upsert
   * to it, delete from it, deterministically (see `VectorCollection`).
   *
   * @example
   * ```ts
   * const similar = await ctx.vectors('moments').search(event.payload.text, { topK: 3, filter: { kind: 'goal' } });
   * await ctx.vectors('moments').upsert({ text: event.payload.text, payload: { kind: event.kind } });
   * ```
   * @throws HandlerOutputError when vector search is off (no `vector:`), or for a bad collection name
   */
  vectors(collection: string): VectorCollection;
}
