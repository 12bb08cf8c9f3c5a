import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { ConnectionError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';

/** The JetStream streams live-crew uses, and the subjects each holds (DESIGN §5). */
export const LIVE_STREAMS = {
  events: { name: 'LIVE_EVENTS', subject: 'live.*.events' },
  actions: { name: 'LIVE_ACTIONS', subject: 'live.*.actions' },
  errors: { name: 'LIVE_ERRORS', subject: 'live.*.errors' },
  /** Distributed runs: the scheduler's work for crews and the runners' reports. */
  slices: { name: 'LIVE_SLICES', subject: 'live.*.slice.>' },
  /** Distributed runs: the wall-clock decisions of schedulers and runners. */
  journal: { name: 'LIVE_JOURNAL', subject: 'live.*.journal' },
} as const;

/** The subject of a stream's events, actions, errors, journal, heartbeats or context records: `live.<stream_id>.<what>`. */
export function liveSubject(streamId: string, what: 'events' | 'actions' | 'errors' | 'journal' | 'heartbeats' | 'ctx'): string {
  return `live.${streamId}.${what}`;
}

/**
 * The subject of a crew's work in a slice (`ready`) or of its report (`done`):
 * `live.<stream>.slice.<n>.<crew>.ready|done`. `*` for any slice or crew.
 */
export function sliceSubject(streamId: string, slice: number | '*', crew: string, what: 'ready' | 'done' | '*'): string {
  return `live.${streamId}.slice.${slice}.${crew}.${what}`;
}

/** How long the streams a distributed run reads again keep their messages, in ms; absent or null: as the stream is. */
export type LiveRetention = Partial<Record<'events' | 'slices' | 'journal', number | null>>;

/** The retention a configuration sets (`events_retention_ms`, ...). */
export function liveRetention(config: LiveCrewConfig): LiveRetention {
  return { events: config.events_retention_ms, slices: config.slices_retention_ms, journal: config.journal_retention_ms };
}

/**
 * A JetStream manager with live-crew's streams in place: created when missing, checked when
 * present. Actions are de-duplicated by message id within the streams' duplicate window. A
 * retention given sets the stream's `max_age`, when it is made or changed to it: the last
 * process started with it decides.
 *
 * @throws ConnectionError when the server has no JetStream, or a stream exists with other subjects
 */
export async function ensureLiveStreams(nc: NatsConnection, retention: LiveRetention = {}): Promise<JetStreamManager> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    throw new ConnectionError(messages.natsNoJetStream(nc.getServer(), (error as Error).message), { cause: error });
  }
  for (const [key, { name, subject }] of Object.entries(LIVE_STREAMS)) {
    const keepMs = retention[key as keyof LiveRetention];
    const maxAge = keepMs === undefined || keepMs === null ? undefined : nanos(keepMs);
    const existing = await jsm.streams.info(name).catch(() => undefined);
    if (existing === undefined) {
      await jsm.streams.add({ name, subjects: [subject], ...(maxAge !== undefined ? { max_age: maxAge } : {}) });
      continue;
    }
    if (!existing.config.subjects?.includes(subject)) {
      throw new ConnectionError(messages.jetStreamStreamMismatch(name, existing.config.subjects, subject));
    }
    if (maxAge !== undefined && existing.config.max_age !== maxAge) await jsm.streams.update(name, { ...existing.config, max_age: maxAge });
  }
  return jsm;
}
