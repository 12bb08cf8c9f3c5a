/**
 * The contracts between the live-crew core and the technologies it runs on. The core only ever
 * talks to these; each adapter folder (`src/adapters/<technology>`) implements one or more.
 * Methods that may complete at once return `T | Promise<T>` so in-process adapters cost no
 * promise per call.
 */
import type { LiveCrewConfig } from './config/config-schema.js';
import type { Action } from './model/action.js';
import type { Event } from './model/event.js';
import type { Interceptor } from './runtime/interceptor.js';
import type { ErrorRecord } from './model/error-record.js';
import type { ContextRecord } from './model/context-record.js';
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { JsonValue } from './model/json.js';

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** Where a batch of input came from, to name it in error records. */
export interface InputOrigin {
  /** A short name: a file name, `stdin`, `nats:live.m1.events`. */
  readonly name: string;
  /**
   * Whether positions name the same records across restarts (JetStream sequences): a restarted
   * process skips the events its committed context already holds.
   */
  readonly durable?: boolean;
  /**
   * The location of one record: `events.jsonl:17`, `events.json[3]`, `nats:live.m1.events#42`.
   * `streamId` is the stream the record came in on, where the origin carries several (a NATS
   * consumer of `live.*.events`).
   */
  locate(position: number, streamId?: string): string;
}

/** One input record: JSON text to parse, or a value already parsed. */
export interface InputRecord {
  /** The record's JSON text (a JSONL line, a message body). */
  readonly text?: string;
  /** The record's value, when the source parsed it or was given objects. */
  readonly value?: unknown;
  /** Its position in the origin: a line number, an index, a stream sequence. */
  readonly position: number;
  /**
   * Set when the source refused the record itself (a line over `line_max_bytes`, skipped while it
   * streamed): why, for its `invalid_event` record; `text` then holds only its start.
   */
  readonly refused?: string;
  /**
   * The stream the transport received the record on (its subject), when it binds records to
   * streams: an event naming another stream is refused, so a producer cannot write into a
   * stream it was not given.
   */
  readonly stream?: string;
}

/** Records that arrived together. Sources batch so the per-record cost stays small. */
export interface InputBatch {
  readonly origin: InputOrigin;
  readonly records: readonly InputRecord[];
  /**
   * Called once everything the batch produced has been accepted by the sinks and the slices
   * holding its events are merged and committed: a source with acknowledgements (JetStream)
   * acks here, so a crash before it redelivers the batch and no context write is lost.
   */
  ack?(): MaybePromise<void>;
}

/**
 * Where events come from. Iterating pulls batches; a source reads ahead only a bounded amount,
 * so a slow consumer slows the source down (backpressure) instead of filling memory.
 */
export interface EventSource {
  /** The batches in arrival order; ends when the input ends. Breaking out stops reading. */
  batches(): AsyncIterable<InputBatch>;
  /** Releases what the source holds (files, subscriptions). Safe to call twice. */
  close(): Promise<void>;
}

/** An action with its JSON line, serialised once when it was emitted. */
export interface EmittedAction {
  readonly action: Action;
  /** `encodeAction(action)`: the bytes every sink writes. */
  readonly json: string;
  /**
   * A deterministic id: `<stream>:<slice>:<crew>.<method>:<position>:<index>`. A re-run of the
   * same input gives the same ids, so a sink with de-duplication (JetStream) stores each once.
   */
  readonly id: string;
}

/** Where actions go. `write` resolves when the sink can take more (backpressure). */
export interface ActionSink {
  write(actions: readonly EmittedAction[]): MaybePromise<void>;
  /** Flushes and releases the sink. Safe to call twice. */
  close(): Promise<void>;
}

/** Where `__error` records go. */
export interface ErrorSink {
  write(errors: readonly ErrorRecord[]): MaybePromise<void>;
  close(): Promise<void>;
}

/**
 * Where each merged slice's `__context` record goes (`live.<stream>.ctx`, `--context-out`), for
 * viewers and other services following a stream's shared state. `write` resolves when the sink
 * can take more.
 */
export interface ContextSink {
  write(records: readonly ContextRecord[]): MaybePromise<void>;
  close(): Promise<void>;
}

/** A merged context snapshot S(n): top-level keys to JSON values. Never mutated once published. */
export type ContextSnapshot = Readonly<Record<string, unknown>>;

/** A stream's context as committed: S(slice), the snapshot after merging slice `slice`. */
export interface CommittedContext {
  readonly slice: number;
  readonly context: ContextSnapshot;
  /** The stream's epoch0 (absent in documents written before it was kept). */
  readonly epoch0?: number;
  /** Every event of the stream at or before this input position is merged (or was refused). */
  readonly position?: number;
  /** Lagging crews' writes of those events that merge in a later slice. */
  readonly lagging?: LaggingWrites;
}

/**
 * What lagging crews (`@Crew({ lag })`) wrote in slices already committed that merges in a later
 * slice: per crew and merge slice, its last write per key (`[key]` for a deletion). A restart
 * puts them back, so a crash between a lagging call and its merge loses nothing.
 */
export type LaggingWrites = ReadonlyArray<{ readonly crew: string; readonly slice: number; readonly writes: readonly ContextWrite[] }>;

/** A context write as it is stored or travels between processes: `[key, value]`, or `[key]` for a deletion. */
export type ContextWrite = readonly [string, unknown] | readonly [string];

/** What a commit records beside the snapshot: where the stream's slices start, and how far its input is merged. */
export interface CommitProgress {
  readonly epoch0: number;
  readonly position: number;
  readonly lagging?: LaggingWrites;
}

/**
 * Keeps each stream's merged context. The core merges writes (DESIGN §4) and hands every new
 * snapshot to the backend; a backend that persists it lets a restarted process resume from it.
 * Every backend passes the same contract suite (`test/integration/context-backend-contract.ts`).
 */
export interface ContextBackend {
  /**
   * The last committed snapshot of a stream and its slice, read together, or undefined when it
   * has none. The slice tells a resuming process which slices are already merged.
   */
  load(streamId: string): MaybePromise<CommittedContext | undefined>;
  /**
   * Stores S(slice), the snapshot after merging slice `slice`, atomically. A commit of a slice at
   * or below the last committed one is ignored, so a re-run after a crash never rolls context
   * back; concurrent writers never interleave (a conflict is retried, no write is lost).
   */
  commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): MaybePromise<void>;
  close(): Promise<void>;
}

/**
 * The record of decisions a run took from the wall clock or the outside world (a handler call
 * abandoned at its `timeoutMs`, a model's answer), so a replay given the same journal takes the
 * same decisions and gives the same output. A journal either records (a live run) or replays (a
 * re-run).
 */
export interface DecisionJournal {
  /** True when decisions come from a recorded journal and the clock must not be consulted. */
  readonly replaying: boolean;
  /**
   * Whether the journal holds decision `key`: taken by the recorded run (a replay), by an earlier
   * process of the same run (a successor resuming it), or already by this one.
   */
  has(key: string): boolean;
  /** The value recorded with decision `key` (a model's answer), or undefined. */
  value(key: string): unknown;
  /** Records that decision `key` was taken, with a JSON `value` where the decision has one. */
  record(key: string, value?: unknown): MaybePromise<void>;
  close(): Promise<void>;
}

/**
 * What a monitor learns from the engine (DESIGN §6), beside what its interceptor sees of handler
 * calls. Every hook is optional and must be cheap: they run on the hot path.
 */
export interface RunObserver {
  /** A valid event was taken in (it may still turn out late). */
  eventAccepted?(event: Event): void;
  /** Actions were accepted by the action sink. */
  actionsSent?(actions: readonly EmittedAction[]): void;
  /** Error records were accepted by the error sink. */
  errorsSent?(errors: readonly ErrorRecord[]): void;
  /** Slice `slice` of a stream closed (`endMs`: its end in event time): its events are all handed to the crews. */
  sliceClosed?(streamId: string, slice: number, endMs: number): void;
  /** The engine forgot a stream that was idle past `stream_idle_ms`: what is kept per stream may go. */
  streamForgotten?(streamId: string): void;
  /** A slice was merged: the stream's context is now `bytes` of JSON. */
  contextMerged?(streamId: string, slice: number, bytes: number): void;
  /**
   * A merged slice changed the stream's context: its `__context` record, told once committed (as
   * `context_out` gets it). The record is derived only when some observer has this hook.
   */
  contextChanged?(record: ContextRecord): void;
  /** The process sent a heartbeat. */
  heartbeat?(): void;
  /** The process's heartbeats were `gapMs` apart: more than 3 beats (a blocked event loop, a stall). */
  heartbeatGap?(gapMs: number): void;
  /** A handler's model call ended. */
  modelCalled?(call: ModelCallReport): void;
  /** A handler's vector search ended. */
  vectorSearched?(search: VectorSearchReport): void;
  /**
   * A runner of the stream (its heartbeats' `process`: `runner /<selector>/`) has sent no heartbeat
   * for more than 3 beats (`silent`), or beats again: the distributed scheduler watches them.
   */
  runnerSilent?(runner: string, silent: boolean): void;
}

/** One vector search, as monitors see it: never its query. */
export interface VectorSearchReport {
  readonly crew: string;
  readonly collection: string;
  /** Answered by the store, failed, or served from the journal (a replay, a successor). */
  readonly outcome: 'ok' | 'error' | 'replayed';
  readonly hits: number;
  /** Wall time of the search, embedding included, in seconds. */
  readonly seconds: number;
}

/** How a model call ended: answered, failed, refused by the crew's budget, served from the journal, or refused as a replay divergence. */
export type ModelCallOutcome = 'ok' | 'error' | 'budget' | 'replayed' | 'divergence';

/** One model call, as monitors see it: never its prompt. */
export interface ModelCallReport {
  readonly crew: string;
  /** The model's name in `models:`. */
  readonly model: string;
  readonly outcome: ModelCallOutcome;
  /** Tokens the provider reported (a call served from the journal reports none: it cost nothing). */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Wall time of the call, retries included, in seconds. */
  readonly seconds: number;
}

/**
 * The models of a run by the names `models:` (language models, DESIGN §9) and `embedders:`
 * (embedding models, DESIGN §10) give them, as the AI SDK's provider packages make them. The core
 * wraps each one for every handler call (journal, budget, metrics, the call's signal); an adapter
 * only builds them.
 */
export interface ModelProvider {
  /** The language models' names, in configuration order. */
  readonly names: readonly string[];
  /** The embedding models' names, in configuration order. */
  readonly embedderNames: readonly string[];
  /**
   * Loads what the models need (provider packages, API keys), before anything runs.
   *
   * @throws ConfigError naming the `models.<name>` key of a model that cannot be made
   */
  open(): Promise<void>;
  /** The model named `name`, or undefined when it has none by that name. */
  languageModel(name: string): LanguageModelV3 | undefined;
  /** The embedding model named `name`, or undefined when it has none by that name. */
  embeddingModel(name: string): EmbeddingModelV3 | undefined;
  /**
   * What names a language or embedding model in a journaled request (`openai:gpt-4o-mini`), known
   * without `open()`: a replay compares requests without making any model, so it needs no key.
   * Undefined for a name it has none by.
   */
  identity(kind: 'language' | 'embedding', name: string): string | undefined;
}

/** How a vector collection measures nearness. */
export type VectorMetric = 'cosine' | 'dot' | 'euclidean';

/** What every vector of a collection has: its length, and how nearness is measured. */
export interface VectorCollectionShape {
  readonly dimension: number;
  readonly metric: VectorMetric;
}

/** A JSON object: a point's payload. */
export type VectorPayload = Readonly<Record<string, JsonValue>>;

/** A point of a collection: its id, its vector, the text it was embedded from (if any), its payload. */
export interface VectorPoint {
  readonly id: string;
  readonly vector: readonly number[];
  readonly text?: string;
  readonly payload: VectorPayload;
}

/** A value a payload key is matched against. */
export type VectorFilterValue = string | number | boolean;

/**
 * A payload filter: every key named must match, a value by equality, a list by holding any of
 * its values (`{ kind: ['goal', 'chance'], team: 'home' }`). Keys are top-level payload keys.
 */
export type VectorFilter = Readonly<Record<string, VectorFilterValue | readonly VectorFilterValue[]>>;

/** What a query asks for: the `topK` nearest points whose payload matches `filter`. */
export interface VectorQuery {
  readonly topK: number;
  readonly filter?: VectorFilter;
}

/**
 * A point found by a query. `score` is higher the nearer: the cosine similarity, the dot product,
 * or the negated Euclidean distance, by the collection's metric.
 */
export interface VectorHit {
  readonly id: string;
  readonly score: number;
  readonly text?: string;
  readonly payload: VectorPayload;
}

/**
 * Keeps vector collections and finds the points nearest a vector (DESIGN §10). The core calls it
 * from handler calls (queries, journaled as decisions) and at slice merges (upserts and deletes,
 * in merge order). Every backend passes the same contract suite (`test/integration/vector-store-contract.ts`).
 */
export interface VectorStore {
  /**
   * Finds what `open` needs without opening or connecting (`live-crew validate`).
   *
   * @throws ConfigError naming the package to install, for one that cannot be loaded
   */
  check(): Promise<void>;
  /** Connects, or opens the embedded database, before anything runs. */
  open(): Promise<void>;
  /** The shape of a collection, or undefined when it does not exist. */
  describe(collection: string): Promise<VectorCollectionShape | undefined>;
  /**
   * Creates a collection with that shape; one that exists with the same shape is kept.
   *
   * @throws VectorStoreError when it exists with another shape
   */
  ensureCollection(collection: string, shape: VectorCollectionShape): Promise<void>;
  /** Inserts points, or replaces those with the same id, in order (the last of an id wins). The collection exists. */
  upsert(collection: string, points: readonly VectorPoint[]): Promise<void>;
  /** The `topK` points nearest `vector` whose payload matches the filter, nearest first (ties by id); none for a collection that does not exist. */
  query(collection: string, vector: readonly number[], query: VectorQuery): Promise<VectorHit[]>;
  /** Removes the points with these ids; ids it does not hold are ignored. */
  delete(collection: string, ids: readonly string[]): Promise<void>;
  /** Releases connections, or closes the database. Safe to call twice. */
  close(): Promise<void>;
}

/** Watches a process: engine hooks, an interceptor around every handler call, and what it serves (`/metrics`). */
export interface Monitor extends RunObserver {
  readonly interceptor?: Interceptor;
  /** Starts serving (`/metrics`), when it serves. */
  start?(): Promise<void>;
  /** Stops serving. Safe to call twice. */
  close(): Promise<void>;
}

/** The fields of a log line beside its message (DESIGN §6): where it happened, and how long it took. */
export interface LogFields {
  readonly stream?: string;
  readonly slice?: number;
  readonly crew?: string;
  /** A duration in ms. */
  readonly t_ms?: number;
  readonly [field: string]: unknown;
}

/** JSON log lines (`ts, level, msg` and the fields). The framework logs only through this. */
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** A logger adding `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Wall-clock time, injected so live mode can run on a virtual clock in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` milliseconds of this clock have passed, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Builds an adapter for the run's configuration. */
export type AdapterFactory<T> = (config: LiveCrewConfig) => T;
