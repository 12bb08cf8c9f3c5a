import { z } from 'zod';
import type { LiveCrewConfig } from '../config/config-schema.js';
import type { Event } from '../model/event.js';
import type { ContextSnapshot } from '../ports.js';

// What the app and an isolated crew's worker thread or child process say to each other. A call
// goes out with the view of the context its crew would read in process; what comes back is what
// the call emitted and wrote, which the app applies as if the call had run in process. Writes
// come back per call, so a crash loses only the call in flight.

/** What an isolate is told first: which crew, from which module, with which configuration. */
export interface IsolateInit {
  readonly type: 'init';
  readonly crewsModule: string;
  readonly crewId: string;
  readonly config: LiveCrewConfig;
}

/** One handler call for an isolate: the `call` work item of the runner protocol, with the crew's view. */
export interface IsolatedCall {
  readonly type: 'call';
  readonly id: number;
  readonly method: string;
  readonly streamId: string;
  readonly slice: number;
  readonly event: Event;
  readonly position: number;
  /** Where the event came from (`file:line`), for records the call makes. */
  readonly source: string;
  /** S(n-1) with the crew's own writes not merged yet: what its reads see. */
  readonly context: ContextSnapshot;
}

/** A write as it travels: `[key, value]`, or `[key]` for a deletion. */
const WireWrite = z.union([z.tuple([z.string()]), z.tuple([z.string(), z.unknown()])]);

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
]);

export type IsolateMessage = z.infer<typeof IsolateMessageSchema>;

/** What a call that ended in an isolate did. */
export type IsolatedOutcome = Extract<IsolateMessage, { type: 'done' }>;
