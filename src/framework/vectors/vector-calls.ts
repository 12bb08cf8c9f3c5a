import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import type { VectorConfig } from '../config/vector-config.js';
import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { frozenJsonCopy } from '../model/frozen-json.js';
import { jsonBytesOver } from '../model/json.js';
import type { VectorCollectionShape, VectorHit, VectorPayload, VectorPoint, VectorWrite } from '../model/vector.js';
import type { VectorSearchReport } from '../ports/run-observer.js';
import type { VectorStore } from '../ports/vector-store.js';
import type { CallSite } from '../runtime/call-site.js';
import type { VectorCollection, VectorDocument, VectorSearchOptions } from '../ports/crew-context.js';
import { recordEffect } from '../model-calls/recorded-effect.js';
import type { ModelCallServices } from '../model-calls/recorded-model.js';
import { digestValue } from '../model-calls/request-digest.js';
import { checkCollectionName, checkDocuments, checkIds, checkSearch, type SearchInput } from './vector-input.js';

/** What the vector calls of a run need. */
export interface VectorCallOptions {
  /**
   * Where points are kept; none for a replay that takes every search from its journal: it opens
   * no store and applies no write (the recorded run's store is not the replay's to change).
   */
  readonly store: VectorStore | undefined;
  readonly config: VectorConfig;
  /** The embedding model a collection embeds with, raw (a search is recorded whole) or as the call sees it (an upsert's texts are recorded). */
  readonly embedder: {
    name(crew: string, collection: string): string;
    raw(crew: string, name: string): EmbeddingModelV3;
    recorded(scope: CallSite, name: string): EmbeddingModelV3;
  };
  readonly services: ModelCallServices;
  /** The largest payload or text, in JSON bytes, and the deepest payload. */
  readonly limits: { readonly payloadMaxBytes: number; readonly payloadMaxDepth: number };
}

/** Writes held per stream, per merge slice, per crew (by run order). */
type HeldWrites = Map<number, VectorWrite[][]>;

/**
 * The vector search of a run (DESIGN §10): hands each handler call its view of a collection
 * (`ctx.vectors(name)`), keeps what calls upsert and delete until their slice merges, and applies
 * it then, in run order. Searches are recorded decisions; a search waits until the upserts of the
 * slices merged before its own are in the store, so what it finds does not depend on timing.
 */
export class VectorCalls {
  readonly #store: VectorStore | undefined;
  readonly #options: VectorCallOptions;
  /** Collections' shapes as configured, found in the store, or set by their first upsert. */
  readonly #shapes = new Map<string, VectorCollectionShape>();
  readonly #held = new Map<string, HeldWrites>();
  /** Per stream, the application of its merged slices' writes, in order. */
  readonly #applying = new Map<string, Promise<void>>();

  constructor(options: VectorCallOptions) {
    this.#store = options.store;
    this.#options = options;
  }

  /** Opens the store before anything runs. */
  async open(): Promise<void> {
    await this.#store?.open();
  }

  /** Closes the store once every merged slice's writes are applied. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#applying.values());
    await this.#store?.close();
  }

  /**
   * Collection `name` as the call `scope` sees it.
   *
   * @throws HandlerOutputError for a bad name
   */
  collection(scope: CallSite, name: unknown): VectorCollection {
    const collection = checkCollectionName(scope.crewId, name);
    return {
      name: collection,
      search: (query, options) => this.#search(scope, collection, query, options),
      upsert: (documents) => this.#upsert(scope, collection, documents),
      delete: (ids) => scope.holdVectorWrite({ collection, delete: checkIds(scope.crewId, collection, ids) }),
    };
  }

  /** Keeps a call's writes for the merge of slice `slice`, after its crew's earlier ones. */
  hold(streamId: string, slice: number, crewIndex: number, writes: readonly VectorWrite[]): void {
    let stream = this.#held.get(streamId);
    if (stream === undefined) this.#held.set(streamId, (stream = new Map()));
    let bySlice = stream.get(slice);
    if (bySlice === undefined) stream.set(slice, (bySlice = []));
    (bySlice[crewIndex] ??= []).push(...writes);
  }

  /**
   * Slice `slice` of a stream merged: applies the writes its calls held, crews in run order, each
   * crew's in arrival order. Undefined when it held none (no promise on the common path).
   */
  merged(streamId: string, slice: number): Promise<void> | undefined {
    const stream = this.#held.get(streamId);
    const bySlice = stream?.get(slice);
    if (bySlice === undefined) return undefined;
    stream!.delete(slice);
    if (stream!.size === 0) this.#held.delete(streamId);
    const store = this.#store;
    if (store === undefined) return undefined;
    const writes = bySlice.flatMap((crewWrites) => crewWrites ?? []);
    const applied = (this.#applying.get(streamId) ?? Promise.resolve()).then(() => this.#apply(store, writes));
    this.#applying.set(streamId, applied);
    return applied;
  }

  async #apply(store: VectorStore, writes: readonly VectorWrite[]): Promise<void> {
    for (const write of writes) {
      if ('delete' in write) await store.delete(write.collection, write.delete);
      else {
        await store.ensureCollection(write.collection, this.#shapes.get(write.collection)!);
        await store.upsert(write.collection, write.upsert);
      }
    }
  }

  async #search(scope: CallSite, collection: string, query: string | readonly number[], options: VectorSearchOptions | undefined): Promise<VectorHit[]> {
    const input = checkSearch(scope.crewId, collection, query, options);
    const embedder = typeof input.query === 'string' ? this.#options.embedder.name(scope.crewId, collection) : undefined;
    const request = digestValue({ collection, ...input, ...(embedder !== undefined ? { embedder } : {}) });
    const { observer, clock } = this.#options.services;
    const started = clock.now();
    let searched = false;
    const report = (outcome: VectorSearchReport['outcome'], hits: number) =>
      observer?.vectorSearched?.({ crew: scope.crewId, collection, outcome: searched ? outcome : 'replayed', hits, seconds: (clock.now() - started) / 1000 });
    try {
      const hits = await this.#recordedSearch(scope, collection, input, embedder, request, () => (searched = true));
      report('ok', hits.length);
      return hits;
    } catch (error) {
      report('error', 0);
      throw error;
    }
  }

  /** The search as a recorded effect: run (`ran` is told) unless the journal has it. */
  #recordedSearch(scope: CallSite, collection: string, input: SearchInput, embedder: string | undefined, request: string, ran: () => void): Promise<VectorHit[]> {
    return recordEffect(
      this.#options.services,
      scope,
      'vectors.search',
      async () => {
        ran();
        const vector = typeof input.query === 'string' ? (await this.#embed(this.#options.embedder.raw(scope.crewId, embedder!), [input.query], scope.signal))[0]! : input.query;
        const shape = await this.#shape(collection);
        if (shape !== undefined && shape.dimension !== vector.length) throw new HandlerOutputError(messages.vectorDimension(collection, vector.length, shape.dimension));
        await this.#applying.get(scope.streamId);
        // Only a replay has no store, and a replay's search comes from its journal or is a divergence.
        return this.#store!.query(collection, vector, input);
      },
      request,
    );
  }

  async #upsert(scope: CallSite, collection: string, documents: VectorDocument | readonly VectorDocument[]): Promise<string[]> {
    const crew = scope.crewId;
    const checked = checkDocuments(crew, collection, documents);
    const payloads = checked.map((document) => this.#payload(crew, collection, document.payload));
    const texts = checked.flatMap((document) => (document.vector === undefined ? [document.text!] : []));
    const embedded = texts.length === 0 ? [] : await this.#embed(this.#options.embedder.recorded(scope, this.#options.embedder.name(crew, collection)), texts, scope.signal);
    let next = 0;
    const points: VectorPoint[] = checked.map((document, index) => ({
      id: document.id ?? scope.nextVectorId(),
      vector: document.vector ?? embedded[next++]!,
      ...(document.text !== undefined ? { text: document.text } : {}),
      payload: payloads[index]!,
    }));
    const shape = (await this.#shape(collection)) ?? this.#firstShape(collection, points[0]!.vector.length);
    for (const point of points) {
      if (point.vector.length !== shape.dimension)
        throw new HandlerOutputError(messages.vectorCallInvalid(crew, `vectors("${collection}").upsert`, messages.vectorDimension(collection, point.vector.length, shape.dimension)));
    }
    scope.holdVectorWrite({ collection, upsert: points });
    return points.map((point) => point.id);
  }

  #payload(crew: string, collection: string, payload: Record<string, unknown> | undefined): VectorPayload {
    if (payload === undefined) return {};
    const copy = frozenJsonCopy(payload, 'upsert', collection, this.#options.limits.payloadMaxDepth) as VectorPayload;
    const over = jsonBytesOver(JSON.stringify(copy), this.#options.limits.payloadMaxBytes);
    if (over !== undefined)
      throw new HandlerOutputError(
        messages.vectorCallInvalid(crew, `vectors("${collection}").upsert`, `a payload of ${over} bytes is over payload_max_bytes (${this.#options.limits.payloadMaxBytes})`),
      );
    return copy;
  }

  /** The shape of a collection: configured, known, or as the store has it; undefined for one not made yet. */
  async #shape(collection: string): Promise<VectorCollectionShape | undefined> {
    const known = this.#shapes.get(collection);
    if (known !== undefined) return known;
    const configured = this.#options.config.collections?.[collection];
    const shape = configured?.dimension !== undefined ? { dimension: configured.dimension, metric: configured.metric ?? 'cosine' } : await this.#store?.describe(collection);
    if (shape !== undefined) this.#shapes.set(collection, shape);
    return shape;
  }

  /** A new collection takes the dimension of its first vectors. */
  #firstShape(collection: string, dimension: number): VectorCollectionShape {
    const shape = { dimension, metric: this.#options.config.collections?.[collection]?.metric ?? 'cosine' } as const;
    this.#shapes.set(collection, shape);
    return shape;
  }

  /** Embeds texts in as few requests as the model allows. */
  async #embed(model: EmbeddingModelV3, texts: readonly string[], signal: AbortSignal): Promise<number[][]> {
    const perCall = (await model.maxEmbeddingsPerCall) ?? texts.length;
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += perCall) {
      const values = texts.slice(start, start + perCall);
      const { embeddings } = await model.doEmbed({ values, abortSignal: signal });
      if (embeddings.length !== values.length) throw new HandlerOutputError(messages.embeddingCountMismatch(model.modelId, values.length, embeddings.length));
      vectors.push(...embeddings);
    }
    return vectors;
  }
}
