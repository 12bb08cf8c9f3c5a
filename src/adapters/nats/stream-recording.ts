import { jetstream } from '@nats-io/jetstream';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { InputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { EventSource } from '../../framework/ports/event-source.js';
import { END_OF_STREAM_HEADER } from './end-of-stream.js';
import { readDecisions } from './jetstream-decision-journal.js';
import { JetStreamReplaySource } from './jetstream-replay-source.js';
import { readStoredMessages, type StoredMessage } from './jetstream-reading.js';
import { parseForeignJson } from '../../framework/model/json.js';
import { DEFAULT_MAX_DEPTH } from '../../framework/model/frozen-json.js';

/** How deep a stored action or error record may nest: its envelope around a payload within the bounds, twice over. */
const RECORD_MAX_DEPTH = 4 + 2 * DEFAULT_MAX_DEPTH;
import { LIVE_STREAMS, liveSubject } from './jetstream-streams.js';
import { connectNats, natsConnectOptions } from './nats-connect.js';

/** A finished stream as JetStream holds it: what a replay re-runs and compares with. */
export interface StreamRecording {
  /** Its events, from the first to the end-of-stream marker. */
  readonly source: EventSource;
  /** Where its events are: `nats:live.<stream>.events`, for messages naming an event's position. */
  readonly eventsAt: string;
  /** Its journal's decisions and model answers. */
  readonly decisions: ReadonlyMap<string, unknown>;
  /** The actions and error records it published, as JSON. */
  readonly actions: readonly unknown[];
  readonly errors: readonly unknown[];
  close(): Promise<void>;
}

/**
 * Opens the recording of a stream in JetStream (`live-crew replay --stream`). A message there that
 * live-crew did not write (not JSON, or past the bounds) is skipped, and `warn` is told which.
 *
 * @throws InputError when the stream has no events, or no end-of-stream marker (a replay needs a finished recording)
 */
export async function openStreamRecording(config: LiveCrewConfig, streamId: string, warn: (message: string) => void): Promise<StreamRecording> {
  const nc = await connectNats(natsConnectOptions(config));
  try {
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager();
    const last = await jsm.streams.getMessage(LIVE_STREAMS.events.name, { last_by_subj: liveSubject(streamId, 'events') }).catch(() => undefined);
    if (last === undefined || last === null) throw new InputError(messages.streamNotRecorded(streamId));
    if (!last.header.has(END_OF_STREAM_HEADER)) throw new InputError(messages.streamNotFinished(streamId));
    const [journal, actions, errors] = await Promise.all([
      readDecisions(js, streamId),
      readStoredMessages(js, LIVE_STREAMS.actions.name, liveSubject(streamId, 'actions')),
      readStoredMessages(js, LIVE_STREAMS.errors.name, liveSubject(streamId, 'errors')),
    ]);
    for (const { subject, seq, problem } of journal.refused) warn(messages.wireMessageRefused(subject, seq, problem, 'ignored'));
    const source = new JetStreamReplaySource(js, streamId);
    return {
      source,
      eventsAt: `nats:${liveSubject(streamId, 'events')}`,
      decisions: journal.decisions,
      actions: records(actions, warn),
      errors: records(errors, warn),
      close: async () => {
        await source.close();
        await nc.drain();
      },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

/** The records stored messages hold; a message that is no JSON record is skipped, with a warning naming it. */
function records(stored: readonly StoredMessage[], warn: (message: string) => void): unknown[] {
  return stored.flatMap(({ subject, seq, text }) => {
    const json = parseForeignJson(text, RECORD_MAX_DEPTH);
    if (json.problem === undefined) return [json.value];
    warn(messages.wireMessageRefused(subject, seq, json.problem, 'skipped: not compared'));
    return [];
  });
}
