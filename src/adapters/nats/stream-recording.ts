import { jetstream } from '@nats-io/jetstream';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import { InputError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { EventSource } from '../../framework/ports.js';
import { END_OF_STREAM_HEADER } from './end-of-stream.js';
import { decodeDecision } from './jetstream-decision-journal.js';
import { JetStreamReplaySource } from './jetstream-replay-source.js';
import { readStored } from './jetstream-reading.js';
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
 * Opens the recording of a stream in JetStream (`live-crew replay --stream`).
 *
 * @throws InputError when the stream has no events, or no end-of-stream marker (a replay needs a finished recording)
 */
export async function openStreamRecording(config: LiveCrewConfig, streamId: string): Promise<StreamRecording> {
  const nc = await connectNats(natsConnectOptions(config));
  try {
    const js = jetstream(nc);
    const jsm = await js.jetstreamManager();
    const last = await jsm.streams.getMessage(LIVE_STREAMS.events.name, { last_by_subj: liveSubject(streamId, 'events') }).catch(() => undefined);
    if (last === undefined || last === null) throw new InputError(messages.streamNotRecorded(streamId));
    if (!last.header.has(END_OF_STREAM_HEADER)) throw new InputError(messages.streamNotFinished(streamId));
    const [journal, actions, errors] = await Promise.all([
      readStored(js, LIVE_STREAMS.journal.name, liveSubject(streamId, 'journal')),
      readStored(js, LIVE_STREAMS.actions.name, liveSubject(streamId, 'actions')),
      readStored(js, LIVE_STREAMS.errors.name, liveSubject(streamId, 'errors')),
    ]);
    const source = new JetStreamReplaySource(js, streamId);
    return {
      source,
      eventsAt: `nats:${liveSubject(streamId, 'events')}`,
      decisions: new Map(journal.map(decodeDecision)),
      actions: actions.map((text) => JSON.parse(text) as unknown),
      errors: errors.map((text) => JSON.parse(text) as unknown),
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
