import { z } from 'zod';
import type { CrewSliceDone, CrewWork } from '../../framework/ports.js';
import { sliceSubject } from './jetstream-streams.js';
import type { OutgoingMessage } from './jetstream-publishing.js';

/**
 * How crews' work and reports travel (DESIGN §5). A work item goes to
 * `live.<stream>.slice.<n>.<crew>.ready` with a deterministic message id, so a scheduler that
 * re-sends it after a takeover is de-duplicated; a report goes to `…<crew>.done`. Subjects carry
 * stream, slice and crew; bodies carry the rest as JSON.
 */


const CallBody = z.object({ event: z.record(z.string(), z.unknown()), position: z.number(), source: z.string() });
const CloseBody = z.object({ close: z.literal(true) });
const DoneBody = z.object({ writes: z.array(z.union([z.tuple([z.string(), z.unknown()]), z.tuple([z.string()])])), disabled: z.boolean() });

export function encodeWork(work: CrewWork): OutgoingMessage {
  const subject = sliceSubject(work.streamId, work.slice, work.crew, 'ready');
  const id = `${work.streamId}:${work.slice}:${work.crew}`;
  if (work.type === 'close') return { subject, data: '{"close":true}', msgID: `${id}:close` };
  return { subject, data: JSON.stringify({ event: work.event, position: work.position, source: work.source }), msgID: `${id}:${work.position}` };
}

export function encodeDone(done: CrewSliceDone): OutgoingMessage {
  return {
    subject: sliceSubject(done.streamId, done.slice, done.crew, 'done'),
    data: JSON.stringify({ writes: done.writes, disabled: done.disabled }),
    msgID: `${done.streamId}:${done.slice}:${done.crew}:done`,
  };
}

/** The stream, slice and crew a slice subject names. */
function parseSubject(subject: string): { streamId: string; slice: number; crew: string; what: string } {
  const [, streamId, , slice, crew, what] = subject.split('.');
  return { streamId: streamId!, slice: Number(slice), crew: crew!, what: what! };
}

/** The body's JSON. @throws Error naming the subject when it is not JSON */
function parseBody(subject: string, data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new Error(`${subject}: not JSON: ${JSON.stringify(data.slice(0, 100))}`);
  }
}

/** @throws Error naming the subject when the message is not a work item live-crew wrote */
export function decodeWork(subject: string, data: string): CrewWork {
  const { streamId, slice, crew } = parseSubject(subject);
  const body = parseBody(subject, data);
  const close = CloseBody.safeParse(body);
  if (close.success) return { type: 'close', streamId, slice, crew };
  const call = CallBody.parse(body, { error: () => `${subject}: not a live-crew work item` });
  return { type: 'call', streamId, slice, crew, event: call.event as unknown as Extract<CrewWork, { type: 'call' }>['event'], position: call.position, source: call.source };
}

/** @throws Error naming the subject when the message is not a report live-crew wrote */
export function decodeDone(subject: string, data: string): CrewSliceDone {
  const { streamId, slice, crew } = parseSubject(subject);
  const body = DoneBody.parse(parseBody(subject, data), { error: () => `${subject}: not a live-crew slice report` });
  return { streamId, slice, crew, writes: body.writes, disabled: body.disabled };
}
