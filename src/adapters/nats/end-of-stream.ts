import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { liveSubject } from './jetstream-streams.js';

/**
 * The header of the message that ends a stream's input: published on `live.<stream>.events`
 * (`live-crew publish --end`) when a recorded stream has been fed whole, so the scheduler closes
 * every slice and finishes, as a file run does at the end of its file.
 */
export const END_OF_STREAM_HEADER = 'Live-Crew-End';

/** Publishes the end of a stream's input (once: a repeat is de-duplicated). */
export async function publishEndOfStream(js: JetStreamClient, streamId: string): Promise<void> {
  const marker: MsgHdrs = headers();
  marker.set(END_OF_STREAM_HEADER, 'true');
  await js.publish(liveSubject(streamId, 'events'), '', { headers: marker, msgID: `${streamId}:end` });
}

/** Whether a message ends its stream's input. */
export function endsStream(message: JsMsg): boolean {
  return message.headers?.has(END_OF_STREAM_HEADER) === true;
}
