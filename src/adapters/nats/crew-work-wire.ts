import { PubHeaders, type JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';
import type { CrewCall, CrewSliceDone, CrewWork } from '../../framework/runner-protocol.js';
import type { ContextWrite } from '../../framework/model/committed-context.js';
import { sliceSubject } from './jetstream-streams.js';
import type { OutgoingMessage } from './jetstream-publishing.js';
import type { WireRefusals } from './wire-refusals.js';
import { contextKeyProblem, DEFAULT_MAX_DEPTH, freezeParsedJson } from '../../framework/model/frozen-json.js';
import { parseJsonWithin } from '../../framework/model/json.js';
import { CREW_ID_PATTERN, STREAM_ID_PATTERN } from '../../framework/model/patterns.js';
import { messages } from '../../framework/messages.js';
import { describeIssues } from '../../framework/model/event.js';

/**
 * How crews' work and reports travel (DESIGN §5). Work goes to
 * `live.<stream>.slice.<n>.<crew>.ready`: a message holds a run of the crew's calls in order
 * (`{"calls":[…]}`, with the slice's `SliceBase` before its first call), the slice's end
 * (`{"close":true}`), or, after the last slice, the stream's (`{"end":true}`); a report goes to `…<crew>.done`. Subjects carry stream, slice and crew; bodies carry the rest as JSON. Every message has a
 * deterministic id. A runner runs a call once even if it is sent again (it knows the call by
 * slice and position), so a re-send after a takeover may group calls differently.
 */

/** An event as the scheduler decoded it. Its payload is checked and frozen after the parse, as the decoder does in process. */
const WireEvent = z.object({ ts: z.string(), kind: z.string(), stream_id: z.string(), payload: z.unknown() });
const Call = z.object({ event: WireEvent, position: z.number().int(), source: z.string() });
/** A context key as a crew may write it: a key that reaches a prototype never gets into a snapshot. */
const ContextKey = z.string().check((check) => {
  const problem = contextKeyProblem(check.value);
  if (problem !== undefined) check.issues.push({ code: 'custom', message: problem, input: check.value });
});
const Base = z.object({
  // JSON has no -Infinity: "nothing merged yet" travels as null.
  after: z
    .number()
    .nullable()
    .transform((slice) => slice ?? Number.NEGATIVE_INFINITY),
  snapshot: z.record(ContextKey, z.unknown()),
  merges: z.array(z.object({ slice: z.number().int(), reports: z.array(z.tuple([z.string(), z.number().int()]).readonly()) })),
  reportsFrom: z.number().int().min(1),
});
const CallsBody = z.object({ base: Base.optional(), calls: z.array(Call).min(1) });
const CloseBody = z.strictObject({ close: z.literal(true) });
const EndBody = z.strictObject({ end: z.literal(true) });
/** `[key, value]`, or `[key]` for a deletion. */
const Write = z
  .tuple([ContextKey], z.unknown())
  .refine((write) => write.length <= 2, { error: 'a write is [key, value], or [key] for a deletion' })
  .transform((write): ContextWrite => (write.length === 1 ? [write[0]] : [write[0], write[1]]));
const DoneBody = z.object({ writes: z.array(Write), disabled: z.boolean() });

/** The header naming the runner that sent a report. */
export const RUNNER_HEADER = 'Live-Crew-Runner';
const MAX_SENDER_LENGTH = 200;
const UNKNOWN_SENDER = 'a sender that gave no name';

/** The most call bytes one message carries (NATS' default max_payload is 1 MB). */
const MAX_MESSAGE_BYTES = 512 * 1024;

/** Consecutive calls of a crew in a slice, becoming one message. */
class CallRun {
  readonly calls: string[] = [];
  bytes = 0;
  #last = 0;

  constructor(
    readonly subject: string,
    readonly first: CrewCall,
  ) {}

  add(work: CrewCall, call: string): void {
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
  let encoded: { readonly work: CrewCall; readonly call: string } | undefined;
  for (const work of items) {
    const subject = sliceSubject(work.streamId, work.slice, work.crew, 'ready');
    if (work.type !== 'call') {
      open.delete(subject);
      ordered.push({ subject, data: `{"${work.type}":true}`, msgID: `${work.streamId}:${work.slice}:${work.crew}:${work.type}` });
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

function encodeCall(work: CrewCall): string {
  return JSON.stringify({ event: work.event, position: work.position, source: work.source });
}

/** A crew's report as a message, naming the runner that sends it (`sender`, shown in a refusal of it). */
export function encodeDone(done: CrewSliceDone, sender: string): OutgoingMessage {
  return {
    subject: sliceSubject(done.streamId, done.slice, done.crew, 'done'),
    data: JSON.stringify({ writes: done.writes, disabled: done.disabled }),
    msgID: reportID(done.streamId, done.slice, done.crew),
    headers: { [RUNNER_HEADER]: sender },
  };
}

/** A message read from JetStream, as the wire decoders see it. */
export interface WireMessage {
  readonly subject: string;
  /** Its place in its JetStream stream. */
  readonly seq: number;
  readonly data: string;
  /** Its message id (`Nats-Msg-Id`); empty when it has none. */
  readonly msgID: string;
  /** Who says they sent it (`Live-Crew-Runner`); empty when nobody does. */
  readonly sender: string;
}

/** A JetStream message as the wire decoders see it. */
export function wireMessage(message: JsMsg): WireMessage {
  const headers = message.headers;
  return {
    subject: message.subject,
    seq: message.seq,
    data: message.string(),
    msgID: headers?.get(PubHeaders.MsgIdHdr) ?? '',
    sender: headers?.get(RUNNER_HEADER).slice(0, MAX_SENDER_LENGTH) ?? '',
  };
}

/** The stream, slice and crew a slice subject names, if it is one live-crew writes. */
function parseSubject(subject: string, what: 'ready' | 'done'): { streamId: string; slice: number; crew: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 6 || parts[0] !== 'live' || parts[2] !== 'slice' || parts[5] !== what) return undefined;
  const [, streamId, , n, crew] = parts as [string, string, string, string, string, string];
  const slice = Number(n);
  if (!STREAM_ID_PATTERN.test(streamId) || !CREW_ID_PATTERN.test(crew) || !/^-?\d{1,15}$/.test(n) || !Number.isSafeInteger(slice)) return undefined;
  return { streamId, slice, crew };
}

/**
 * The body as the schema `schemaOf` picks for it reads it, within the wire's bytes, or what is
 * wrong with it. The schema walks only the envelope it knows; the caller bounds (depth) and
 * freezes each payload or value it keeps, so nothing is walked twice or without a bound.
 */
function parseBody<S extends z.ZodType>(data: string, schemaOf: (value: unknown) => S): { readonly body: z.output<S>; readonly problem?: undefined } | { readonly problem: string } {
  const json = parseJsonWithin(data);
  if (json.problem !== undefined) return { problem: json.problem };
  const parsed = schemaOf(json.value).safeParse(json.value, { reportInput: true });
  return parsed.success ? { body: parsed.data } : { problem: describeIssues(parsed.error) };
}

/** A work message as a runner takes it: its items in order, or why it is refused. */
export type WorkReading = { readonly work: CrewWork[]; readonly refused?: undefined } | { readonly work?: undefined; readonly refused: string };

/**
 * The work items of a message, or why it is not work the scheduler wrote. Their events are deeply
 * frozen, as the in-process decoder leaves them, so a crew that changes its event fails alike in both.
 *
 * @param payloadMaxDepth - the deepest payload nesting accepted (`payload_max_depth`)
 */
export function readWork(message: WireMessage, payloadMaxDepth = DEFAULT_MAX_DEPTH): WorkReading {
  const named = parseSubject(message.subject, 'ready');
  if (named === undefined) return { refused: messages.wireSubjectNotOurs('work') };
  const { streamId, slice, crew } = named;
  if (!message.msgID.startsWith(`${streamId}:${slice}:${crew}:`)) return { refused: messages.wireIdNotOurs(message.msgID, 'work') };
  // The key picks the schema: a failed parse of the other would build an error for every message.
  const read = parseBody(message.data, (value) => (typeof value !== 'object' || value === null ? CallsBody : 'close' in value ? CloseBody : 'end' in value ? EndBody : CallsBody));
  if (read.problem !== undefined) return { refused: messages.notLiveCrewWork(read.problem) };
  const body = read.body;
  if ('close' in body) return { work: [{ type: 'close', streamId, slice, crew }] };
  if ('end' in body) return { work: [{ type: 'end', streamId, slice, crew }] };
  for (const { event } of body.calls) {
    const problem = freezeParsedJson(event.payload, payloadMaxDepth, 'payload');
    if (problem !== undefined) return { refused: messages.notLiveCrewWork(problem) };
    Object.freeze(event);
  }
  // The snapshot's values are context values: as deep as a crew may write them.
  const snapshot = body.base === undefined ? undefined : freezeParsedJson(body.base.snapshot, payloadMaxDepth + 1, 'base.snapshot');
  if (snapshot !== undefined) return { refused: messages.notLiveCrewWork(snapshot) };
  const { calls, base } = body;
  return {
    work: calls.map((call, i) => ({
      type: 'call',
      streamId,
      slice,
      crew,
      event: call.event,
      position: call.position,
      source: call.source,
      ...(i === 0 && base !== undefined ? { base } : {}),
    })),
  };
}

/** A message on a report subject: a crew's report (refused when its body is not one), or why it is none at all. */
export type ReportReading = { readonly report: CrewSliceDone; readonly ignored?: undefined } | { readonly report?: undefined; readonly ignored: string };

/**
 * The report a message makes. One on a crew's report subject with the report's id is that crew's
 * report of the slice, whatever its body: a body that is not a report live-crew wrote (not JSON,
 * another shape, past the bounds, a key no crew can write) makes a refused report, which merges
 * nothing; the scheduler and every runner decide alike, from the same stored message. Anything
 * else on the subject (another id, a crew not of this run) is no report.
 *
 * @param crews - the ids of the run's crews
 */
export function readReport(message: WireMessage, crews: ReadonlySet<string>, payloadMaxDepth = DEFAULT_MAX_DEPTH): ReportReading {
  const named = parseSubject(message.subject, 'done');
  if (named === undefined || !crews.has(named.crew)) return { ignored: messages.wireSubjectNotOurs('report') };
  const { streamId, slice, crew } = named;
  if (message.msgID !== reportID(streamId, slice, crew)) return { ignored: messages.wireIdNotOurs(message.msgID, 'report') };
  const read = parseBody(message.data, () => DoneBody);
  const problem = read.problem ?? writesProblem(read.body.writes, payloadMaxDepth);
  if (read.problem === undefined && problem === undefined) return { report: { type: 'done', streamId, slice, crew, writes: read.body.writes, disabled: read.body.disabled } };
  const refused = { problem: messages.notLiveCrewReport(problem!), sender: message.sender === '' ? UNKNOWN_SENDER : message.sender, source: `nats:${message.subject}#${message.seq}` };
  return { report: { type: 'done', streamId, slice, crew, writes: [], disabled: false, refused } };
}

/**
 * Hands each report of a batch read from report subjects to `receive`, with its sequence; logs
 * each message refused there once.
 */
export function takeReports(batch: readonly JsMsg[], crews: ReadonlySet<string>, payloadMaxDepth: number, refusals: WireRefusals, receive: (done: CrewSliceDone, seq: number) => void): void {
  for (const message of batch) {
    const read = readReport(wireMessage(message), crews, payloadMaxDepth);
    if (read.ignored !== undefined) {
      refusals.refuse(message.subject, message.seq, read.ignored, 'ignored');
      continue;
    }
    const { report } = read;
    if (report.refused !== undefined) refusals.refuse(message.subject, message.seq, report.refused.problem, messages.refusedReportTaken(report.crew, report.slice));
    receive(report, message.seq);
  }
}

/** What is wrong with a report's written values: a value past the bounds a crew's writes keep to. */
function writesProblem(writes: readonly ContextWrite[], payloadMaxDepth: number): string | undefined {
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i]!;
    const problem = write.length === 1 ? undefined : freezeParsedJson(write[1], payloadMaxDepth, `writes[${i}][1]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function reportID(streamId: string, slice: number, crew: string): string {
  return `${streamId}:${slice}:${crew}:done`;
}
