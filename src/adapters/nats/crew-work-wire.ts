import { PubHeaders, type JsMsg } from '@nats-io/jetstream';
import { z } from 'zod';
import type { CrewCall, CrewSliceDone, CrewWork, SliceBase } from '../../framework/runner-protocol.js';
import type { ContextWrite } from '../../framework/model/committed-context.js';
import { reportSubject, workSubject } from './jetstream-streams.js';
import { RUNNER_GROUP_PATTERN } from '../../framework/config/runner-groups-config.js';
import type { OutgoingMessage } from './jetstream-publishing.js';
import type { WireRefusals } from './wire-refusals.js';
import { contextKeyProblem, DEFAULT_MAX_DEPTH, freezeParsedJson } from '../../framework/model/frozen-json.js';
import { parseJsonWithin } from '../../framework/model/json.js';
import { CREW_ID_PATTERN, STREAM_ID_PATTERN } from '../../framework/model/patterns.js';
import { messages } from '../../framework/messages.js';
import { describeIssues } from '../../framework/model/event.js';

/**
 * How crews' work and reports travel (DESIGN §5 and its amendments). Work goes to a runner group,
 * on `live.<stream>.work.<group>`: a message holds a run of the group's work items, in order,
 * each event once however many of its crews call it:
 *
 *     {"bases":[[n, SliceBase]],
 *      "events":[{"event":{…},"position":p,"source":"nats:live.m1.events#42","slice":n}],
 *      "crews":{"<crew>":[0, 1, {"close":n}, 2, {"end":n}]}}
 *
 * Each crew's list is its items in order: an index is a call of that event (in the event's
 * slice), `close` ends a slice for the crew, `end` the stream. `bases` holds the base of each
 * slice whose first calls the message carries. A report goes to
 * `live.<stream>.slice.<n>.<crew>.done`. Every message has a deterministic id. A runner runs a
 * call once even if it is sent again (it knows the call by slice and position), so a re-send
 * after a takeover may group items differently.
 */

/** An event as the scheduler decoded it. Its payload is checked and frozen after the parse, as the decoder does in process. */
const WireEvent = z.object({ ts: z.string(), kind: z.string(), stream_id: z.string(), payload: z.unknown() });
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
const WorkEvent = z.object({ event: WireEvent, position: z.number().int(), source: z.string(), slice: z.number().int() });
const WorkItem = z.union([z.number().int().min(0), z.strictObject({ close: z.number().int() }), z.strictObject({ end: z.number().int() })]);
const WorkBody = z.object({
  bases: z.array(z.tuple([z.number().int(), Base])).optional(),
  events: z.array(WorkEvent),
  crews: z.record(z.string().regex(CREW_ID_PATTERN), z.array(WorkItem).min(1)),
});
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

/** The most bytes one work message carries, past its first item (NATS' default max_payload is 1 MB). */
const MAX_MESSAGE_BYTES = 512 * 1024;

/** Consecutive work items of a runner group on a stream, becoming one message. */
class GroupRun {
  readonly #events: string[] = [];
  /** Each event's index in `#events`, by slice and position. */
  readonly #eventIndex = new Map<string, number>();
  readonly #bases = new Map<number, string>();
  readonly #items = new Map<string, string[]>();
  #count = 0;
  #first = '';
  #last = '';
  bytes = 0;

  constructor(
    readonly subject: string,
    readonly streamId: string,
    readonly group: string,
  ) {}

  /** How many bytes `work` adds to the message: its event and base when they are not in it yet. */
  cost(work: CrewWork, json: EncodedCall | undefined): number {
    if (work.type !== 'call') return 12;
    return 4 + (this.#eventIndex.has(eventKey(work)) ? 0 : json!.call.length) + (json!.base === undefined || this.#bases.has(work.slice) ? 0 : json!.base.length);
  }

  add(work: CrewWork, json: EncodedCall | undefined): void {
    this.bytes += this.cost(work, json);
    let item: string;
    if (work.type === 'call') {
      const key = eventKey(work);
      let index = this.#eventIndex.get(key);
      if (index === undefined) {
        index = this.#events.push(json!.call) - 1;
        this.#eventIndex.set(key, index);
      }
      if (json!.base !== undefined && !this.#bases.has(work.slice)) this.#bases.set(work.slice, `[${work.slice},${json!.base}]`);
      item = String(index);
    } else item = `{"${work.type}":${work.slice}}`;
    const items = this.#items.get(work.crew);
    if (items === undefined) this.#items.set(work.crew, [item]);
    else items.push(item);
    const name = `${work.crew}/${work.slice}/${work.type === 'call' ? work.position : work.type}`;
    if (this.#count++ === 0) this.#first = name;
    this.#last = name;
  }

  message(): OutgoingMessage {
    const bases = this.#bases.size === 0 ? '' : `"bases":[${[...this.#bases.values()].join(',')}],`;
    const crews = [...this.#items].map(([crew, items]) => `"${crew}":[${items.join(',')}]`).join(',');
    return { subject: this.subject, data: `{${bases}"events":[${this.#events.join(',')}],"crews":{${crews}}}`, msgID: `${this.streamId}:${this.group}:${this.#first}~${this.#last}:${this.#count}` };
  }
}

const eventKey = (work: CrewCall) => `${work.slice}:${work.position}`;

/** A call's event as JSON, and its slice's base when it carries one. */
interface EncodedCall {
  readonly call: string;
  readonly base: string | undefined;
}

/**
 * Work items as messages, in order: consecutive items of a runner group on a stream share a
 * message (up to MAX_MESSAGE_BYTES), which carries each event once, so the cost per call stays
 * far below a message's and an event's bytes are stored once per group.
 *
 * @param groupOf - the work group of a crew (`RunnerGroups.workGroupOf`)
 */
export function encodeWork(items: readonly CrewWork[], groupOf: (crew: string) => string): OutgoingMessage[] {
  const ordered: GroupRun[] = [];
  const open = new Map<string, GroupRun>();
  // An event's calls for several crews come one after another: it is encoded once for them all,
  // and a slice's base (one object, on each crew's first call) once.
  let encoded: { readonly work: CrewCall; readonly call: string } | undefined;
  const bases = new WeakMap<SliceBase, string>();
  for (const work of items) {
    const group = groupOf(work.crew);
    const subject = workSubject(work.streamId, group);
    let json: EncodedCall | undefined;
    if (work.type === 'call') {
      if (encoded === undefined || encoded.work.event !== work.event || encoded.work.position !== work.position) encoded = { work, call: encodeCall(work) };
      let base: string | undefined;
      if (work.base !== undefined) {
        base = bases.get(work.base) ?? JSON.stringify(work.base);
        bases.set(work.base, base);
      }
      json = { call: encoded.call, base };
    }
    let run = open.get(subject);
    if (run === undefined || run.bytes + run.cost(work, json) > MAX_MESSAGE_BYTES) {
      run = new GroupRun(subject, work.streamId, group);
      open.set(subject, run);
      ordered.push(run);
    }
    run.add(work, json);
  }
  return ordered.map((run) => run.message());
}

function encodeCall(work: CrewCall): string {
  return JSON.stringify({ event: work.event, position: work.position, source: work.source, slice: work.slice });
}

/** A crew's report as a message, naming the runner that sends it (`sender`, shown in a refusal of it). */
export function encodeDone(done: CrewSliceDone, sender: string): OutgoingMessage {
  return {
    subject: reportSubject(done.streamId, done.slice, done.crew),
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

/** The stream, slice and crew a report subject names, if it is one live-crew writes. */
function parseReportSubject(subject: string): { streamId: string; slice: number; crew: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 6 || parts[0] !== 'live' || parts[2] !== 'slice' || parts[5] !== 'done') return undefined;
  const [, streamId, , n, crew] = parts as [string, string, string, string, string, string];
  const slice = Number(n);
  if (!STREAM_ID_PATTERN.test(streamId) || !CREW_ID_PATTERN.test(crew) || !/^-?\d{1,15}$/.test(n) || !Number.isSafeInteger(slice)) return undefined;
  return { streamId, slice, crew };
}

/** The stream and group a work subject names, if it is one live-crew writes. */
function parseWorkSubject(subject: string): { streamId: string; group: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'live' || parts[2] !== 'work') return undefined;
  const [, streamId, , group] = parts as [string, string, string, string];
  return STREAM_ID_PATTERN.test(streamId) && RUNNER_GROUP_PATTERN.test(group) ? { streamId, group } : undefined;
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

/** A work message as a runner takes it: its items, each crew's in order, or why it is refused. */
export type WorkReading = { readonly work: CrewWork[]; readonly refused?: undefined } | { readonly work?: undefined; readonly refused: string };

/**
 * The work items of a message, each crew's in order, or why it is not work the scheduler wrote.
 * Its events are deeply frozen, as the in-process decoder leaves them, so a crew that changes
 * its event fails alike in both. A crew's first call of a slice in the message carries the
 * slice's base when the message has one.
 *
 * @param payloadMaxDepth - the deepest payload nesting accepted (`payload_max_depth`)
 */
export function readWork(message: WireMessage, payloadMaxDepth = DEFAULT_MAX_DEPTH): WorkReading {
  const named = parseWorkSubject(message.subject);
  if (named === undefined) return { refused: messages.wireSubjectNotOurs('work') };
  const { streamId, group } = named;
  if (!message.msgID.startsWith(`${streamId}:${group}:`)) return { refused: messages.wireIdNotOurs(message.msgID, 'work') };
  const read = parseBody(message.data, () => WorkBody);
  if (read.problem !== undefined) return { refused: messages.notLiveCrewWork(read.problem) };
  const { events, crews } = read.body;
  for (const [i, { event }] of events.entries()) {
    const problem = freezeParsedJson(event.payload, payloadMaxDepth, `events[${i}].event.payload`);
    if (problem !== undefined) return { refused: messages.notLiveCrewWork(problem) };
    Object.freeze(event);
  }
  const bases = new Map<number, SliceBase>();
  for (const [i, [slice, base]] of (read.body.bases ?? []).entries()) {
    // The snapshot's values are context values: as deep as a crew may write them.
    const problem = freezeParsedJson(base.snapshot, payloadMaxDepth + 1, `bases[${i}][1].snapshot`);
    if (problem !== undefined) return { refused: messages.notLiveCrewWork(problem) };
    bases.set(slice, base);
  }
  const work: CrewWork[] = [];
  for (const [crew, items] of Object.entries(crews)) {
    const based = new Set<number>();
    for (const [i, item] of items.entries()) {
      if (typeof item !== 'number') {
        work.push('close' in item ? { type: 'close', streamId, slice: item.close, crew } : { type: 'end', streamId, slice: item.end, crew });
        continue;
      }
      const called = events[item];
      if (called === undefined) return { refused: messages.notLiveCrewWork(messages.workItemNamesNoEvent(crew, i, item, events.length)) };
      const { event, position, source, slice } = called;
      const base = based.has(slice) ? undefined : bases.get(slice);
      based.add(slice);
      work.push({ type: 'call', streamId, slice, crew, event, position, source, ...(base !== undefined ? { base } : {}) });
    }
  }
  return { work };
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
  const named = parseReportSubject(message.subject);
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
