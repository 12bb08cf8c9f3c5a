import type { NatsConnection, Msg } from '@nats-io/transport-node';
import { z } from 'zod';
import { CONTEXT_KIND, type ContextRecord } from '../../framework/model/context-record.js';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import { TimestampSchema } from '../../framework/model/event.js';
import type { Clock, Logger } from '../../framework/ports.js';
import { HeartbeatWatch } from '../../framework/runtime/heartbeat-watch.js';
import { DEFAULT_MAX_DEPTH } from '../../framework/model/frozen-json.js';
import { parseForeignJson } from '../../framework/model/json.js';
import { readCommittedContext } from '../nats/jetstream-context-backend.js';
import type { DashboardFeed } from './dashboard-feed.js';

/** How deep a message the viewer reads may nest: a record around a payload within the bounds, twice over. */
const VIEWED_MAX_DEPTH = 8 + 2 * DEFAULT_MAX_DEPTH;

const EventHead = z.object({ ts: TimestampSchema });
const ActionBody = z.object({ ts: z.string(), kind: z.string(), stream_id: z.string(), payload: z.unknown() });
const ErrorBody = z.object({
  ts: z.string(),
  kind: z.literal('__error'),
  stream_id: z.string(),
  payload: z.object({ reason: z.string(), message: z.string(), crew: z.string().optional(), slice: z.number().int().optional(), source: z.string().optional() }),
});
const ContextBody = z.object({
  ts: z.string(),
  kind: z.literal(CONTEXT_KIND),
  stream_id: z.string(),
  payload: z.object({ slice: z.number().int(), context: z.record(z.string(), z.unknown()), changed: z.array(z.string()), deleted: z.array(z.string()) }),
});
const Beat = z.object({ payload: z.object({ process: z.string().max(1000) }) });
const WorkBody = z.union([z.object({ close: z.literal(true) }), z.object({ calls: z.array(z.object({ event: EventHead })).min(1) })]);
const DoneBody = z.object({ disabled: z.boolean() });

/** What `followStream` needs beside the connection. */
export interface StreamViewOptions {
  /** The processes' heartbeat interval (`heartbeat_s`): a runner silent for 3 beats is shown silent. */
  readonly heartbeatMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The prefix of the context buckets (default `live_crew`). */
  readonly bucketPrefix?: string;
}

/**
 * Shows a distributed stream on a dashboard, read-only: its committed context from the KV bucket,
 * then, on core NATS (nothing is created on the server), its events, actions, errors, `__context`
 * records, heartbeats, and the crews' work and reports (`slice.<n>.<crew>.ready|done`: a crew runs
 * from its work to its report). A message the viewer cannot read is logged once per subject and
 * skipped. Returns the stop.
 */
export async function followStream(nc: NatsConnection, streamId: string, feed: DashboardFeed, options: StreamViewOptions): Promise<() => void> {
  const committed = await readCommittedContext(nc, streamId, options.bucketPrefix);
  if (committed !== undefined) {
    const ts = committed.epoch0 === undefined ? new Date(0).toISOString() : new Date(committed.epoch0).toISOString();
    feed.contextChanged({ ts, kind: CONTEXT_KIND, stream_id: streamId, payload: { slice: committed.slice, context: committed.context, changed: [], deleted: [] } });
  }
  const watch = new HeartbeatWatch({ intervalMs: options.heartbeatMs, clock: options.clock, logger: options.logger, observer: feed });
  const unreadable = new Set<string>();
  const read = <T>(message: Msg, schema: z.ZodType<T>): T | undefined => {
    const json = parseForeignJson(message.string(), VIEWED_MAX_DEPTH);
    const parsed = json.problem === undefined ? schema.safeParse(json.value) : undefined;
    if (parsed?.success) return parsed.data;
    const kind = message.subject.replace(/^live\.[^.]+\.slice\.\d+\.[^.]+\./, `live.${streamId}.slice.<n>.<crew>.`);
    if (!unreadable.has(kind)) {
      unreadable.add(kind);
      options.logger.warn({ stream: streamId, subject: message.subject }, `dashboard: a message on ${message.subject} is not what live-crew publishes there; such messages are skipped`);
    }
    return undefined;
  };
  const subscription = nc.subscribe(`live.${streamId}.>`, {
    callback: (error, message) => {
      if (error !== null) return;
      const [, , what, n, crew, report] = message.subject.split('.');
      if (what === 'events') {
        const event = read(message, EventHead);
        if (event !== undefined) feed.eventSeen(streamId, event.ts);
      } else if (what === 'actions') {
        const action = read(message, ActionBody);
        if (action !== undefined) feed.actionSent(action, message.headers?.get('Nats-Msg-Id') ?? '');
      } else if (what === 'errors') {
        const record = read(message, ErrorBody);
        if (record !== undefined) feed.errorsSent([record as ErrorRecord]);
      } else if (what === 'ctx') {
        const record = read(message, ContextBody);
        if (record !== undefined) {
          feed.sliceClosed(streamId, record.payload.slice, Date.parse(record.ts));
          feed.contextChanged(record as ContextRecord);
        }
      } else if (what === 'heartbeats') {
        const beat = read(message, Beat);
        if (beat?.payload.process.startsWith('runner ')) {
          watch.beat(beat.payload.process);
          feed.runnerHeard(beat.payload.process);
        }
      } else if (what === 'slice' && crew !== undefined) {
        const slice = Number(n);
        if (report === 'ready') {
          const work = read(message, WorkBody);
          if (work === undefined) return;
          if ('close' in work) feed.sliceClosed(streamId, slice);
          else feed.workStarted(crew, streamId, work.calls[0]!.event.ts);
        } else if (report === 'done') {
          const done = read(message, DoneBody);
          if (done !== undefined) feed.workOfSliceEnded(crew, streamId, slice, done.disabled);
        }
      }
    },
  });
  watch.start();
  return () => {
    watch.stop();
    subscription.unsubscribe();
  };
}
