import { z } from 'zod';
import { messages, showPath } from '../messages.js';
import { defaultLineMaxBytes, jsonBytesOver } from './json.js';
import { DEFAULT_MAX_DEPTH, freezeParsedJson, frozenJsonCopy } from './frozen-json.js';
import { HandlerOutputError } from '../errors.js';
import { isUserKind, KIND_PATTERN, RESERVED_KIND_PREFIX, STREAM_ID_PATTERN } from './patterns.js';
import { canonicalUtc, parseCanonicalUtc } from './timestamp.js';
import type { InputOrigin, InputRecord } from './input-record.js';
import { describeThrown } from '../describe-thrown.js';

/**
 * An input event: something that happened on a stream at a point in event time.
 *
 * @typeParam P - the payload type, usually `z.infer` of the handler's payload schema.
 */
export interface Event<P = unknown> {
  /** When it happened, ISO-8601 in UTC (`2024-05-01T12:00:00.000Z`). Event time is data. */
  readonly ts: string;
  /** What happened: `^[a-zA-Z0-9_]{1,50}$`, never starting with `__`. */
  readonly kind: string;
  /** Which stream it belongs to (a match, a ticker, a conversation): `^[a-zA-Z0-9_-]{1,100}$`. */
  readonly stream_id: string;
  /** The event's data: any JSON value, `{}` when the input has none. */
  readonly payload: P;
}

/** What an event may look like before it is checked: `ts` may also be a `Date`. */
export interface EventInput {
  ts: string | Date;
  kind: string;
  stream_id: string;
  payload?: unknown;
}

/** An accepted event with its time in ms and where it came from, as the engine consumes it. */
export interface EventEnvelope {
  readonly event: Event;
  readonly tsMs: number;
  readonly origin: InputOrigin;
  /** Its position in the origin (line, index, sequence), for error records. */
  readonly position: number;
}

/** Where an accepted event came from, for its error records: `events.jsonl:17`, `nats:live.m1.events#42`. */
export function locateEnvelope(envelope: EventEnvelope): string {
  return envelope.origin.locate(envelope.position, envelope.event.stream_id);
}

/** What the decoder accepts (`inputLimits(config)`). */
export interface InputLimits {
  /** The largest payload, as JSON bytes. */
  readonly payloadMaxBytes: number;
  /** The deepest nesting of arrays and objects in a payload. */
  readonly payloadMaxDepth: number;
  /** The longest record text (a line, a message body), in bytes. */
  readonly lineMaxBytes: number;
}

/** The result of checking one input value: an event, or the reason it was rejected. */
export type DecodeResult = EventEnvelope | { readonly problem: string };

/** The origin of values decoded without one: errors name them `input[position]`. */
export const CODE_ORIGIN: InputOrigin = { name: 'input', locate: (position) => `input[${position}]` };

const required = (what: string) => (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : what);

/** Event kind: the pattern of DESIGN §3, reserved kinds excluded. */
export const KindSchema = z
  .string({ error: required('must be a string') })
  .regex(KIND_PATTERN, { error: `must match ${KIND_PATTERN.source}` })
  .refine((kind) => !kind.startsWith(RESERVED_KIND_PREFIX), { error: (i) => messages.reservedKind(String(i.input)) });

/** Stream id: the pattern of DESIGN §3. */
export const StreamIdSchema = z.string({ error: required('must be a string') }).regex(STREAM_ID_PATTERN, { error: `must match ${STREAM_ID_PATTERN.source}` });

const TS_FORMAT = 'must be an ISO-8601 date-time with a UTC offset, e.g. 2024-05-01T12:00:00Z';

/** Event timestamp: ISO-8601 text with an offset, or a `Date`; becomes epoch milliseconds. */
export const TimestampSchema = z.union([z.iso.datetime({ offset: true, error: required(TS_FORMAT) }), z.date({ error: required(TS_FORMAT) })], { error: required(TS_FORMAT) }).transform((ts, ctx) => {
  const ms = typeof ts === 'string' ? Date.parse(ts) : ts.getTime();
  if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: TS_FORMAT, input: ts });
  return ms;
});

const JsonValueSchema = z.json();

/**
 * The schema of an input event for a given payload limit. Unknown top-level keys are dropped,
 * so producers may add metadata without breaking consumers.
 */
export function eventSchema(payloadMaxBytes: number) {
  return z.object({
    ts: TimestampSchema,
    kind: KindSchema,
    stream_id: StreamIdSchema,
    payload: z
      .unknown()
      .superRefine((payload, ctx) => {
        if (payload === undefined) return;
        if (!JsonValueSchema.safeParse(payload).success) {
          ctx.addIssue({ code: 'custom', message: messages.payloadNotJson() });
          return;
        }
        const bytes = jsonBytesOver(JSON.stringify(payload), payloadMaxBytes);
        if (bytes !== undefined) ctx.addIssue({ code: 'custom', message: messages.payloadTooLarge(bytes, payloadMaxBytes) });
      })
      .optional(),
  });
}

/** The problems of a failed zod parse as one line: `kind: must match … (got "a b"); ts: is required`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => messages.issue(showPath(issue.path), issue.message, issue.input, 'input' in issue && issue.input !== undefined)).join('; ');
}

/**
 * Checks input values and turns them into events. Most input is well-formed, so a cheap check
 * runs first; only what it cannot vouch for goes through the zod schema, which decides and
 * explains. Valid kinds and stream ids are remembered, so a pattern runs once per distinct name.
 *
 * Every accepted event is deeply frozen, so no crew can change what another sees. Its payload
 * is checked for what the zod schema would recurse into first: nesting deeper than
 * `payloadMaxDepth` and numbers `JSON.parse` turned into Infinity (`1e400`) are refused alike,
 * whatever the record's length.
 */
export class EventDecoder {
  readonly #schema: ReturnType<typeof eventSchema>;
  readonly #limits: InputLimits;
  readonly #knownKinds = new Set<string>();
  readonly #knownStreams = new Set<string>();

  constructor(limits: Partial<InputLimits> & Pick<InputLimits, 'payloadMaxBytes'>) {
    this.#limits = { payloadMaxDepth: DEFAULT_MAX_DEPTH, lineMaxBytes: defaultLineMaxBytes(limits.payloadMaxBytes), ...limits };
    this.#schema = eventSchema(limits.payloadMaxBytes);
  }

  /** Decodes one record of a source: its text, its value, or the refusal the source made of it. */
  decodeRecord(record: InputRecord, origin: InputOrigin): DecodeResult {
    if (record.refused !== undefined) return { problem: record.refused };
    const decoded = record.text !== undefined ? this.decodeText(record.text, origin, record.position) : this.decode(record.value, origin, record.position);
    if (record.stream === undefined || 'problem' in decoded || decoded.event.stream_id === record.stream) return decoded;
    return { problem: messages.streamMismatch(decoded.event.stream_id, origin.locate(record.position, record.stream)) };
  }

  /**
   * Decodes a value given in code (or parsed by a source) at `position` of `origin`. The payload
   * is copied, so the caller's objects are neither frozen nor shared with crews.
   */
  decode(value: unknown, origin: InputOrigin = CODE_ORIGIN, position = 0): DecodeResult {
    if (typeof value === 'object' && value !== null && (value as { payload?: unknown }).payload !== undefined) {
      try {
        value = { ...value, payload: frozenJsonCopy((value as { payload: unknown }).payload, 'event', 'payload', this.#limits.payloadMaxDepth) };
      } catch (error) {
        if (error instanceof HandlerOutputError) return { problem: messages.invalidEvent(error.message) };
        throw error;
      }
    }
    return this.#full(value, origin, position);
  }

  /**
   * Decodes one record of JSON text. The text's length bounds the payload size for free, which
   * lets well-formed events skip the zod check.
   */
  decodeText(text: string, origin: InputOrigin = CODE_ORIGIN, position = 0): DecodeResult {
    const over = jsonBytesOver(text, this.#limits.lineMaxBytes);
    if (over !== undefined) return { problem: messages.lineTooLong(over, this.#limits.lineMaxBytes) };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { problem: messages.notJson(describeThrown(error)) };
    }
    const payload = typeof value === 'object' && value !== null ? (value as { payload?: unknown }).payload : undefined;
    if (payload !== undefined) {
      const problem = freezeParsedJson(payload, this.#limits.payloadMaxDepth, 'payload');
      if (problem !== undefined) return { problem: messages.invalidEvent(problem) };
    }
    return this.#fast(value, text.length, origin, position) ?? this.#full(value, origin, position);
  }

  /** The kinds of the records decoded so far (the first 10,000 distinct ones): what a run tells a crew that never ran. */
  kindsSeen(): ReadonlySet<string> {
    return this.#knownKinds;
  }

  #fast(value: unknown, textLength: number, origin: InputOrigin, position: number): EventEnvelope | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const { ts, kind, stream_id, payload } = value as Record<string, unknown>;
    if (typeof ts !== 'string' || typeof kind !== 'string' || typeof stream_id !== 'string') return undefined;
    if (!this.#isKnown(this.#knownKinds, kind, isUserKind)) return undefined;
    if (!this.#isKnown(this.#knownStreams, stream_id, isStreamId)) return undefined;
    const tsMs = parseCanonicalUtc(ts);
    if (Number.isNaN(tsMs)) return undefined;
    if (textLength * 3 > this.#limits.payloadMaxBytes && payload !== undefined) return undefined;
    // What JSON.parse made is ours: frozen as it is when it has just the event's keys, in order.
    const event = payload !== undefined && hasEventKeysOnly(value) ? (value as Event) : { ts, kind, stream_id, payload: payload === undefined ? EMPTY_PAYLOAD : payload };
    return { event: Object.freeze(event), tsMs, origin, position };
  }

  #full(value: unknown, origin: InputOrigin, position: number): DecodeResult {
    const parsed = this.#schema.safeParse(value, { reportInput: true });
    if (!parsed.success) return { problem: messages.invalidEvent(describeIssues(parsed.error)) };
    const { ts, kind, stream_id, payload } = parsed.data;
    this.#isKnown(this.#knownKinds, kind, isUserKind);
    return { event: Object.freeze({ ts: canonicalUtc(ts), kind, stream_id, payload: payload === undefined ? EMPTY_PAYLOAD : payload }), tsMs: ts, origin, position };
  }

  #isKnown(known: Set<string>, name: string, isValid: (name: string) => boolean): boolean {
    if (known.has(name)) return true;
    if (!isValid(name)) return false;
    if (known.size < 10_000) known.add(name);
    return true;
  }
}

/** The payload of an event that has none: one frozen object serves them all. */
const EMPTY_PAYLOAD = Object.freeze({});

const EVENT_KEYS = ['ts', 'kind', 'stream_id', 'payload'];

/** Whether a parsed object's own keys are exactly an event's, in the canonical order (one shape for every such event). */
function hasEventKeysOnly(value: object): boolean {
  let i = 0;
  for (const key in value) if (key !== EVENT_KEYS[i++]) return false;
  return i === EVENT_KEYS.length;
}

function isStreamId(id: string): boolean {
  return STREAM_ID_PATTERN.test(id);
}
