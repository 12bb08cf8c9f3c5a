import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { ConfigError, ConnectionError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { CREW_ID_PATTERN, STREAM_ID_PATTERN } from '../../framework/model/patterns.js';
import { crewOwner, SCHEDULER_OWNER, type DecisionOwner } from '../../framework/replay/decision-keys.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/** The JetStream streams live-crew uses, and the subjects each holds (DESIGN §5). */
export const LIVE_STREAMS = {
  events: { name: 'LIVE_EVENTS', subjects: ['live.*.events'] },
  actions: { name: 'LIVE_ACTIONS', subjects: ['live.*.actions'] },
  errors: { name: 'LIVE_ERRORS', subjects: ['live.*.errors'] },
  /** Distributed runs: the scheduler's work for runner groups and the runners' reports. */
  slices: { name: 'LIVE_SLICES', subjects: ['live.*.work.*', 'live.*.slice.>'] },
  /** Distributed runs: the decisions of schedulers and runners, each owner's on a subject of its own. */
  journal: { name: 'LIVE_JOURNAL', subjects: ['live.*.journal.>'] },
} as const;

/** Subjects a stream held in an earlier release, replaced by its current ones when a process finds them. */
const EARLIER_SUBJECTS: ReadonlySet<string> = new Set([
  // LIVE_JOURNAL before decisions were owned.
  'live.*.journal',
]);

/** The subject of a stream's events, actions, errors, heartbeats or context records: `live.<stream_id>.<what>`. */
export function liveSubject(streamId: string, what: 'events' | 'actions' | 'errors' | 'heartbeats' | 'ctx'): string {
  return `live.${streamId}.${what}`;
}

/** `m1` of `live.m1.events`. */
export function streamOfSubject(subject: string): string {
  return subject.slice(subject.indexOf('.') + 1, subject.lastIndexOf('.'));
}

/**
 * The streams with events stored in `LIVE_EVENTS`, each with how many it holds, from one request
 * (the server counts messages per subject): how pool workers find streams to serve. A subject
 * whose stream id is not one live-crew accepts is no stream.
 */
export async function streamsWithEvents(js: JetStreamClient): Promise<Map<string, number>> {
  const jsm = await js.jetstreamManager();
  // Before the first worker or publisher made it, there is no stream yet.
  const info = await jsm.streams.info(LIVE_STREAMS.events.name, { subjects_filter: liveSubject('*', 'events') }).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  });
  if (info === undefined) return new Map();
  return new Map(
    Object.entries(info.state.subjects ?? {})
      .map(([subject, count]) => [streamOfSubject(subject), count] as const)
      .filter(([streamId]) => STREAM_ID_PATTERN.test(streamId)),
  );
}

/**
 * The subject of a stream's decisions of one owner (DESIGN §5 amendments):
 * `live.<stream>.journal.scheduler` or `live.<stream>.journal.crew.<id>`; `*` for every owner's.
 */
export function journalSubject(streamId: string, owner: DecisionOwner | '*'): string {
  if (owner === '*') return `live.${streamId}.journal.>`;
  return owner.scheduler ? `live.${streamId}.journal.scheduler` : `live.${streamId}.journal.crew.${owner.crew}`;
}

/** The owner a journal subject names, if it is one (`journalSubject`'s inverse). */
export function journalOwnerOf(subject: string): DecisionOwner | undefined {
  const parts = subject.split('.');
  if (parts[2] !== 'journal') return undefined;
  if (parts.length === 4 && parts[3] === 'scheduler') return SCHEDULER_OWNER;
  return parts.length === 5 && parts[3] === 'crew' && CREW_ID_PATTERN.test(parts[4]!) ? crewOwner(parts[4]!) : undefined;
}

/** The subject of a crew's report that it finished a slice: `live.<stream>.slice.<n>.<crew>.done`. `*` for any slice or crew. */
export function reportSubject(streamId: string, slice: number | '*', crew: string): string {
  return `live.${streamId}.slice.${slice}.${crew}.done`;
}

/** The subject of a runner group's work on a stream (DESIGN §5 amendments): `live.<stream>.work.<group>`. `*` for any stream or group. */
export function workSubject(streamId: string, group: string): string {
  return `live.${streamId}.work.${group}`;
}

/** How long the streams a distributed run reads again keep their messages, in ms; absent or null: as the stream is. */
export type LiveRetention = Partial<Record<'events' | 'slices' | 'journal', number | null>>;

/**
 * The retention a configuration sets (`events_retention_ms`, ...). It must keep what a successor
 * scheduler reads after the last checkpoint: the input since it was taken (up to
 * checkpoint_slices + 1 slices ago, plus lateness) and the lease's wait; twice that leaves room
 * for a slow commit.
 *
 * @throws ConfigError naming the key and the least value that is safe
 */
export function liveRetention(config: LiveCrewConfig): LiveRetention {
  const needed = 2 * ((config.checkpoint_slices + 1) * config.slice_ms + config.lateness_ms + config.lease_ms);
  for (const key of ['events_retention_ms', 'slices_retention_ms', 'journal_retention_ms'] as const) {
    const ms = config[key];
    if (ms !== null && ms < needed) throw new ConfigError(messages.retentionTooShort(key, ms, needed));
  }
  return { events: config.events_retention_ms, slices: config.slices_retention_ms, journal: config.journal_retention_ms };
}

/** The stream settings of a retention: `max_age`, and a duplicate window no longer than it (JetStream's rule). */
function retentionSettings(maxAge: number, duplicateWindow = DEFAULT_DUPLICATE_WINDOW_NS): { max_age: number; duplicate_window: number } {
  return { max_age: maxAge, duplicate_window: Math.min(duplicateWindow, maxAge) };
}

/** JetStream's default duplicate window: 2 minutes, in ns. */
const DEFAULT_DUPLICATE_WINDOW_NS = nanos(120_000);

/**
 * A JetStream manager with live-crew's streams in place: created when missing, checked when
 * present. Actions are de-duplicated by message id within the streams' duplicate window. A
 * retention given sets the stream's `max_age` (and shortens its duplicate window to it if it is
 * longer), when it is made or changed to it: the last process started with it decides.
 *
 * @throws ConnectionError when the server has no JetStream, or a stream exists with other subjects
 */
export async function ensureLiveStreams(nc: NatsConnection, retention: LiveRetention = {}): Promise<JetStreamManager> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    throw new ConnectionError(messages.natsNoJetStream(nc.getServer(), describeThrown(error)), { cause: error });
  }
  for (const [key, { name, subjects }] of Object.entries(LIVE_STREAMS)) {
    const keepMs = retention[key as keyof LiveRetention];
    const maxAge = keepMs === undefined || keepMs === null ? undefined : nanos(keepMs);
    const existing = await jsm.streams.info(name).catch(() => undefined);
    if (existing === undefined) {
      await jsm.streams.add({ name, subjects: [...subjects], ...(maxAge !== undefined ? retentionSettings(maxAge) : {}) });
      continue;
    }
    const had = existing.config.subjects ?? [];
    const missing = subjects.filter((subject) => !had.includes(subject));
    // A stream an earlier release made is brought up to date; one made for something else is not touched.
    const earlier = missing.length > 0 && had.every((subject) => EARLIER_SUBJECTS.has(subject) || (subjects as readonly string[]).includes(subject));
    if (missing.length > 0 && !earlier) throw new ConnectionError(messages.jetStreamStreamMismatch(name, had, subjects));
    if (earlier || (maxAge !== undefined && existing.config.max_age !== maxAge)) {
      await jsm.streams.update(name, {
        ...existing.config,
        subjects: earlier ? [...subjects] : had,
        ...(maxAge !== undefined ? retentionSettings(maxAge, existing.config.duplicate_window) : {}),
      });
    }
  }
  return jsm;
}
