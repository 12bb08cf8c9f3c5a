import { z } from 'zod';
import type { LiveCrewConfig } from '../config/config-schema.js';
import type { CrewWork } from '../distributed/runner-protocol.js';
import type { ContextSnapshot } from '../model/committed-context.js';

// What the app and an isolated crew's worker thread or child process say to each other: the
// runner protocol's `call` work items, each answered when it ends; and the model calls a call
// makes, which the app makes for it, so they are journaled and budgeted as in process. A NATS runner reports a crew's
// writes once per slice; an isolate answers each call with what it emitted and wrote, which the
// app applies as if the call had run in process, so a crash loses only the call in flight.

/** What an isolate is told first: which crew, from which module, with which configuration. */
export interface IsolateInit {
  readonly type: 'init';
  readonly crewsModule: string;
  readonly crewId: string;
  readonly config: LiveCrewConfig;
  /** Its heap and its buffers together (V8's external memory: Buffers, ArrayBuffers) may use at most this many MB. */
  readonly memoryLimitMb?: number;
}

/**
 * One handler call for an isolate: the runner protocol's `call` work item (DESIGN §5), naming the
 * handler and carrying the crew's whole view, since an isolate keeps nothing between calls.
 */
export type IsolatedCall = Extract<CrewWork, { readonly type: 'call' }> & {
  /** Names the call in the isolate's answer. */
  readonly id: number;
  /** The handler to run: the work item names the crew, an isolate hosts one. */
  readonly method: string;
  /** S(n-1) with the crew's own writes not merged yet: what its reads see. */
  readonly context: ContextSnapshot;
};

/** A write as it travels: `[key, value]`, or `[key]` for a deletion. */
const WireWrite = z.union([z.tuple([z.string()]).readonly(), z.tuple([z.string(), z.unknown()]).readonly()]);

/**
 * Messages from an isolate, checked on arrival (what runs there is crew code): it is ready; it
 * could not start; a call ended with its actions and writes, or failed; something escaped a call
 * after it ended.
 */
export const IsolateMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('fatal'), error: z.string() }),
  z.strictObject({
    type: z.literal('done'),
    id: z.number().int(),
    actions: z.array(z.strictObject({ kind: z.string(), payload: z.unknown(), ttlMs: z.number() })),
    writes: z.array(WireWrite),
  }),
  z.strictObject({ type: z.literal('failed'), id: z.number().int(), error: z.string() }),
  z.strictObject({ type: z.literal('stray'), id: z.number().int(), error: z.string() }),
  z.strictObject({
    type: z.literal('model'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string().nullable(),
    mode: z.enum(['generate', 'stream']),
    options: z.unknown(),
  }),
  z.strictObject({ type: z.literal('effect'), id: z.number().int(), request: z.number().int(), name: z.string() }),
  z.strictObject({
    type: z.literal('effect-outcome'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string(),
    key: z.string(),
    what: z.string(),
    outcome: z.strictObject({ result: z.unknown().optional(), error: z.string().optional() }),
  }),
  z.strictObject({
    type: z.literal('embed'),
    id: z.number().int(),
    request: z.number().int(),
    name: z.string().nullable(),
    values: z.array(z.string()),
    providerOptions: z.unknown().optional(),
  }),
  z.strictObject({
    type: z.literal('vectors'),
    id: z.number().int(),
    request: z.number().int(),
    collection: z.string(),
    op: z.enum(['search', 'upsert', 'delete']),
    args: z.array(z.unknown()),
  }),
]);

export type IsolateMessage = z.infer<typeof IsolateMessageSchema>;

/**
 * What a handler in an isolate asks the app, which holds the journal and the vector store: a model
 * or embedding call (the app makes it, journaled and budgeted in the call's own scope); whether an
 * effect (`ctx.recorded`) is in the journal; the outcome of one the isolate ran, to record; a
 * vector search, upsert or delete (held in the call's own scope until its slice merges).
 */
export type IsolatedRequest = Extract<IsolateMessage, { type: 'model' | 'effect' | 'effect-outcome' | 'embed' | 'vectors' }>;

/**
 * The app's answer to a request: a model's answer in its journal form (`toJournalValue` of the
 * generate result, or of the stream's parts); an effect's journal entry (its outcome, when
 * recorded); or why there is none.
 */
export interface IsolatedAnswer {
  readonly type: 'answer';
  readonly request: number;
  readonly result?: unknown;
  readonly effect?: { readonly key: string; readonly what: string; readonly outcome?: { readonly result?: unknown; readonly error?: string } | undefined };
  readonly error?: string;
}

/** What a call that ended in an isolate did. */
export type IsolatedOutcome = Extract<IsolateMessage, { type: 'done' }>;
