import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Msg } from '@nats-io/transport-node';
import { z } from 'zod';
import { CONTEXT_KIND, type ContextRecord } from '../../framework/model/context-record.js';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import { TimestampSchema } from '../../framework/model/event.js';
import type { Clock } from '../../framework/ports/clock.js';
import type { Logger } from '../../framework/ports/logger.js';
import { describeThrown } from '../../framework/describe-thrown.js';
import { HeartbeatWatch } from '../../framework/runtime/heartbeat-watch.js';
import { DEFAULT_MAX_DEPTH } from '../../framework/model/frozen-json.js';
import { parseForeignJson } from '../../framework/model/json.js';
import { readCommittedContext } from '../nats/jetstream-context-backend.js';
import { sleep } from '../nats/jetstream-reading.js';
import { LIVE_STREAMS, liveSubject } from '../nats/jetstream-streams.js';
import type { DashboardFeed } from './dashboard-feed.js';
import { messages } from '../../framework/messages.js';

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
/** A runner group's work message, as far as the viewer reads it (`crew-work-wire.ts` has the whole). */
const WorkBody = z.object({
  events: z.array(z.object({ event: EventHead })),
  crews: z.record(z.string(), z.array(z.union([z.number().int().min(0), z.object({ close: z.number().int() }), z.object({ end: z.number().int() })]))),
});
const DoneBody = z.object({ disabled: z.boolean() });

/** What `followStream` needs beside the connection. */
export interface StreamViewOptions {
  /** The processes' heartbeat interval (`heartbeat_s`): a runner silent for 3 beats is shown silent. */
  readonly heartbeatMs: number;
  /** The run's `slice_ms`: where the committed slice ends in event time. */
  readonly sliceMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The prefix of the context buckets (default `live_crew`). */
  readonly bucketPrefix?: string;
}

/** A message as the viewer reads it, from core NATS or a JetStream consumer. */
type Received = Pick<Msg, 'subject' | 'string' | 'headers'>;

/** The stored subjects the viewer reads from their start, then as they grow. */
const STORED = ['events', 'actions', 'errors'] as const;

/** The pause before looking again for a JetStream stream that does not exist yet, in ms. */
const STREAM_MISSING_PAUSE_MS = 1000;
/** How long the server keeps a reader's consumer once the viewer is gone without deleting it (killed), in ms. */
const READER_INACTIVE_MS = 30_000;

/**
 * Shows a distributed stream on a dashboard, read-only: its committed context from the KV bucket
 * (the slice it closes, at its end in event time); its events, actions and errors from their
 * JetStream streams, from the first stored message on (ephemeral ordered consumers, gone when it
 * stops: a finished stream shows its counts), then as they come; and, on core NATS, `__context`
 * records, heartbeats, and the crews' work and reports (`work.<group>`, `slice.<n>.<crew>.done`: a
 * crew runs from its work to its report). A message the viewer cannot read is logged once per subject and
 * skipped. Nothing is created on the server that outlives it: its consumers are deleted at the
 * stop, or dropped by the server 30 s after a viewer that was killed. Returns the stop.
 */
export async function followStream(nc: NatsConnection, streamId: string, feed: DashboardFeed, options: StreamViewOptions): Promise<() => void> {
  const committed = await readCommittedContext(nc, streamId, options.bucketPrefix);
  if (committed !== undefined && committed.slice >= 0) {
    const endMs = (committed.epoch0 ?? 0) + (committed.slice + 1) * options.sliceMs;
    feed.sliceClosed(streamId, committed.slice, endMs);
    feed.contextChanged({ ts: new Date(endMs).toISOString(), kind: CONTEXT_KIND, stream_id: streamId, payload: { slice: committed.slice, context: committed.context, changed: [], deleted: [] } });
  }
  const watch = new HeartbeatWatch({ intervalMs: options.heartbeatMs, clock: options.clock, logger: options.logger, observer: feed });
  const unreadable = new Set<string>();
  const read = <T>(message: Received, schema: z.ZodType<T>): T | undefined => {
    const json = parseForeignJson(message.string(), VIEWED_MAX_DEPTH);
    const parsed = json.problem === undefined ? schema.safeParse(json.value) : undefined;
    if (parsed?.success) return parsed.data;
    const kind = message.subject.replace(/^live\.[^.]+\.slice\.-?\d+\.[^.]+\./, `live.${streamId}.slice.<n>.<crew>.`);
    if (!unreadable.has(kind)) {
      unreadable.add(kind);
      options.logger.warn({ stream: streamId, subject: message.subject }, messages.viewerSkipsMessage(message.subject));
    }
    return undefined;
  };
  const stored = (what: (typeof STORED)[number], message: Received): void => {
    if (what === 'events') {
      const event = read(message, EventHead);
      if (event !== undefined) feed.eventSeen(streamId, event.ts);
    } else if (what === 'actions') {
      const action = read(message, ActionBody);
      if (action !== undefined) feed.actionSent(action, message.headers?.get('Nats-Msg-Id') ?? '');
    } else {
      const record = read(message, ErrorBody);
      if (record !== undefined) feed.errorsSent([record as ErrorRecord]);
    }
  };
  const subscription = nc.subscribe(`live.${streamId}.>`, {
    callback: (error, message) => {
      if (error !== null) return;
      const [, , what, n, crew, report] = message.subject.split('.');
      if (what === 'ctx') {
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
      } else if (what === 'work') {
        const work = read(message, WorkBody);
        if (work !== undefined) showWork(feed, streamId, work);
      } else if (what === 'slice' && report === 'done' && crew !== undefined) {
        const done = read(message, DoneBody);
        if (done !== undefined) feed.workOfSliceEnded(crew, streamId, Number(n), done.disabled);
      }
    },
  });
  const js = jetstream(nc);
  const stop = new AbortController();
  for (const what of STORED) {
    readStored(js, LIVE_STREAMS[what].name, liveSubject(streamId, what), (message) => stored(what, message), stop.signal).catch((error: unknown) =>
      options.logger.warn({ stream: streamId, error: describeThrown(error) }, messages.viewerReadingStopped(LIVE_STREAMS[what].name, describeThrown(error))),
    );
  }
  watch.start();
  return () => {
    stop.abort();
    watch.stop();
    subscription.unsubscribe();
  };
}

/** What a work message shows: each crew's first call in it starts its work, each close ends a slice. */
function showWork(feed: DashboardFeed, streamId: string, work: z.output<typeof WorkBody>): void {
  for (const [crew, items] of Object.entries(work.crews)) {
    const first = items.find((item) => typeof item === 'number');
    const called = first === undefined ? undefined : work.events[first];
    if (called !== undefined) feed.workStarted(crew, streamId, called.event.ts);
    for (const item of items) if (typeof item !== 'number' && 'close' in item) feed.sliceClosed(streamId, item.close);
  }
}

/**
 * Hands every message of `subject` in JetStream stream `stream` to `take`, from the first stored
 * on and then as they come, until `stopped`: an ordered consumer, which the server drops once it
 * is gone. A stream that does not exist yet (no run has made it) is looked for again each second.
 */
async function readStored(js: JetStreamClient, stream: string, subject: string, take: (message: JsMsg) => void, stopped: AbortSignal): Promise<void> {
  while (!stopped.aborted) {
    // One subject, as filter_subject: servers before 2.10 take no filter_subjects list.
    const consumer = await js.consumers.get(stream, { filter_subjects: subject, inactive_threshold: READER_INACTIVE_MS }).catch(() => undefined);
    if (consumer === undefined) {
      await sleep(STREAM_MISSING_PAUSE_MS);
      continue;
    }
    const messages = await consumer.consume();
    stopped.addEventListener(
      'abort',
      () => {
        messages.stop();
        consumer.delete().catch(() => undefined);
      },
      { once: true },
    );
    for await (const message of messages) take(message);
    return;
  }
}
