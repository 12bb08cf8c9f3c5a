import { z } from 'zod';
import type { CrewSliceDone, CrewWork } from '../../framework/distributed/runner-protocol.js';
import { sliceSubject } from './jetstream-streams.js';
import type { OutgoingMessage } from './jetstream-publishing.js';
import { StoredStateError } from '../../framework/errors.js';
import { DEFAULT_MAX_DEPTH, freezeParsedJson } from '../../framework/model/frozen-json.js';
import { messages } from '../../framework/messages.js';
import { describeIssues } from '../../framework/model/event.js';

/**
 * How crews' work and reports travel (DESIGN §5). Work goes to
 * `live.<stream>.slice.<n>.<crew>.ready`: a message holds a run of the crew's calls in order
 * (`{"calls":[…]}`, with the slice's `SliceBase` before its first call), or the slice's end
 * (`{"close":true}`); a report goes to `…<crew>.done`. Subjects carry stream, slice and crew; bodies carry the rest as JSON. Every message has a
 * deterministic id. A runner runs a call once even if it is sent again (it knows the call by
 * slice and position), so a re-send after a takeover may group calls differently.
 */

type CallWork = Extract<CrewWork, { type: 'call' }>;

/** An event as the scheduler decoded it. Its payload is checked and frozen after the parse, as the decoder does in process. */
const WireEvent = z.object({ ts: z.string(), kind: z.string(), stream_id: z.string(), payload: z.unknown() });
const Call = z.object({ event: WireEvent, position: z.number(), source: z.string() });
const Base = z.object({
  // JSON has no -Infinity: "nothing merged yet" travels as null.
  after: z
    .number()
    .nullable()
    .transform((slice) => slice ?? Number.NEGATIVE_INFINITY),
  snapshot: z.record(z.string(), z.unknown()),
  merges: z.array(z.object({ slice: z.number().int(), reports: z.array(z.tuple([z.string(), z.number().int()]).readonly()) })),
  reportsFrom: z.number().int().min(1),
});
const CallsBody = z.object({ base: Base.optional(), calls: z.array(Call).min(1) });
const CloseBody = z.object({ close: z.literal(true) });
const DoneBody = z.object({ writes: z.array(z.union([z.tuple([z.string(), z.unknown()]), z.tuple([z.string()])])), disabled: z.boolean() });

/** The most call bytes one message carries (NATS' default max_payload is 1 MB). */
const MAX_MESSAGE_BYTES = 512 * 1024;

/** Consecutive calls of a crew in a slice, becoming one message. */
class CallRun {
  readonly calls: string[] = [];
  bytes = 0;
  #last = 0;

  constructor(
    readonly subject: string,
    readonly first: CallWork,
  ) {}

  add(work: CallWork, call: string): void {
    this.calls.push(call);
    this.bytes += call.length;
    this.#last = work.position;
  }

  message(): OutgoingMessage {
    const { streamId, slice, crew, position, base } = this.first;
    const head = base === undefined ? '' : `"base":${JSON.stringify(base)},`;
    return { subject: this.subject, data: `{${head}"calls":[${this.calls.join(',')}]}`, msgID: `${streamId}:${slice}:${crew}:${position}-${this.#last}:${this.calls.length}` };
  }
}

/**
 * Work items as messages, in order: consecutive calls of a crew in a slice share a message (up
 * to MAX_MESSAGE_BYTES), so the cost per call stays far below a message's.
 */
export function encodeWork(items: readonly CrewWork[]): OutgoingMessage[] {
  const ordered: Array<OutgoingMessage | CallRun> = [];
  const open = new Map<string, CallRun>();
  // An event's calls for several crews come one after another: it is encoded once for them all.
  let encoded: { readonly work: CallWork; readonly call: string } | undefined;
  for (const work of items) {
    const subject = sliceSubject(work.streamId, work.slice, work.crew, 'ready');
    if (work.type === 'close') {
      open.delete(subject);
      ordered.push({ subject, data: '{"close":true}', msgID: `${work.streamId}:${work.slice}:${work.crew}:close` });
      continue;
    }
    if (encoded === undefined || encoded.work.event !== work.event || encoded.work.position !== work.position) encoded = { work, call: encodeCall(work) };
    const call = encoded.call;
    let run = open.get(subject);
    if (run === undefined || run.bytes + call.length > MAX_MESSAGE_BYTES) {
      run = new CallRun(subject, work);
      open.set(subject, run);
      ordered.push(run);
    }
    run.add(work, call);
  }
  return ordered.map((entry) => (entry instanceof CallRun ? entry.message() : entry));
}

function encodeCall(work: CallWork): string {
  return JSON.stringify({ event: work.event, position: work.position, source: work.source });
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
    throw new StoredStateError(messages.messageNotJson(subject, data));
  }
}

/** The body as `schema` reads it. @throws StoredStateError naming the subject, what the body is not, and where it differs */
function parseAs<S extends z.ZodType>(schema: S, body: unknown, notOurs: (problem: string) => string): z.output<S> {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw new StoredStateError(notOurs(describeIssues(parsed.error)));
  return parsed.data;
}

/**
 * The work items of a message. Their events are deeply frozen, as the in-process decoder leaves
 * them, so a crew that changes its event fails alike in both.
 *
 * @param payloadMaxDepth - the deepest payload nesting accepted (`payload_max_depth`)
 * @throws Error naming the subject when it is not work live-crew wrote
 */
export function decodeWork(subject: string, data: string, payloadMaxDepth = DEFAULT_MAX_DEPTH): CrewWork[] {
  const { streamId, slice, crew } = parseSubject(subject);
  const body = parseBody(subject, data);
  // The key picks the schema: a failed parse of the other would build an error for every message.
  if (typeof body === 'object' && body !== null && 'close' in body) {
    parseAs(CloseBody, body, (problem) => messages.notLiveCrewWork(subject, problem));
    return [{ type: 'close', streamId, slice, crew }];
  }
  const { calls, base } = parseAs(CallsBody, body, (problem) => messages.notLiveCrewWork(subject, problem));
  for (const { event } of calls) {
    const problem = freezeParsedJson(event.payload, payloadMaxDepth, 'payload');
    if (problem !== undefined) throw new StoredStateError(messages.notLiveCrewWork(subject, problem));
    Object.freeze(event);
  }
  return calls.map((call, i) => ({
    type: 'call',
    streamId,
    slice,
    crew,
    event: call.event,
    position: call.position,
    source: call.source,
    ...(i === 0 && base !== undefined ? { base } : {}),
  }));
}

/** @throws Error naming the subject when the message is not a report live-crew wrote */
export function decodeDone(subject: string, data: string): CrewSliceDone {
  const { streamId, slice, crew } = parseSubject(subject);
  const body = parseAs(DoneBody, parseBody(subject, data), (problem) => messages.notLiveCrewReport(subject, problem));
  return { streamId, slice, crew, writes: body.writes, disabled: body.disabled };
}
