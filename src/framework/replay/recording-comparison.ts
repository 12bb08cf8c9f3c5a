import type { EmittedAction } from '../ports/sinks.js';
import type { ErrorRecord } from '../model/error-record.js';
import { showPath, showValue } from '../messages.js';

/** Where a value first differs from another: its path, and both values there. */
export interface FirstDifference {
  readonly path: string;
  readonly expected: unknown;
  readonly got: unknown;
}

/** One way a re-run's output differs from the recording. */
export interface Divergence {
  readonly kind: 'changed' | 'missing' | 'extra';
  /** `action` or `error`. */
  readonly of: 'action' | 'error';
  /** The record as recorded (changed, missing) and as re-run (changed, extra). */
  readonly expected?: unknown;
  readonly got?: unknown;
  /** What made the re-run record, from its id: crew, method, slice and the input position of its event. */
  readonly origin?: { readonly crew: string; readonly method: string; readonly slice: number; readonly position: number };
  readonly difference?: FirstDifference;
}

/** A re-run's output: its actions with their ids, and its error records. */
export interface RunOutput {
  readonly actions: readonly EmittedAction[];
  readonly errors: readonly ErrorRecord[];
}

/**
 * Compares a re-run's output with a recording (DESIGN §5's replay harness). Records are matched
 * by what identifies them in the output (an action by its `ts`, `stream_id` and `kind`, an error
 * by those and its reason, crew and slice), the n-th with the n-th, so one missing record does
 * not make every later one differ. Divergences come in the order of the output.
 */
export function compareRecordings(expected: { readonly actions: readonly unknown[]; readonly errors: readonly unknown[] }, got: RunOutput): Divergence[] {
  return [
    ...compareRecords(
      'action',
      expected.actions,
      got.actions.map((emitted) => ({ record: JSON.parse(emitted.json) as unknown, origin: originOf(emitted.id) })),
    ),
    ...compareRecords(
      'error',
      expected.errors.map(withoutSource),
      got.errors.map((record) => ({ record: withoutSource(JSON.parse(JSON.stringify(record)) as unknown), origin: undefined })),
    ),
  ];
}

function compareRecords(of: Divergence['of'], expected: readonly unknown[], got: ReadonlyArray<{ record: unknown; origin: Divergence['origin'] }>): Divergence[] {
  const waiting = new Map<string, unknown[]>();
  for (const record of expected) {
    const key = keyOf(of, record);
    const queue = waiting.get(key);
    if (queue === undefined) waiting.set(key, [record]);
    else queue.push(record);
  }
  const divergences: Divergence[] = [];
  for (const { record, origin } of got) {
    const recorded = waiting.get(keyOf(of, record))?.shift();
    const at = origin !== undefined ? { origin } : {};
    if (recorded === undefined) divergences.push({ kind: 'extra', of, got: record, ...at });
    else {
      const difference = firstDifference(recorded, record);
      if (difference !== undefined) divergences.push({ kind: 'changed', of, expected: recorded, got: record, difference, ...at });
    }
  }
  for (const queue of waiting.values()) for (const record of queue) divergences.push({ kind: 'missing', of, expected: record });
  return divergences;
}

/** The first path where two JSON values differ, depth first in key order; undefined when equal. */
export function firstDifference(expected: unknown, got: unknown, path: PropertyKey[] = []): FirstDifference | undefined {
  if (Object.is(expected, got)) return undefined;
  const bothObjects = typeof expected === 'object' && expected !== null && typeof got === 'object' && got !== null && Array.isArray(expected) === Array.isArray(got);
  if (!bothObjects) return { path: showPath(path), expected, got };
  const a = expected as Record<string, unknown>;
  const b = got as Record<string, unknown>;
  const keys = Array.isArray(expected)
    ? Array.from({ length: Math.max((expected as unknown[]).length, (got as unknown[]).length) }, (_, i) => i)
    : [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const found = firstDifference(a[key as never], b[key as never], [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A divergence as one line for a person: what, where it came from (`locate` names an event's input position), and how it differs. */
export function describeDivergence(divergence: Divergence, locate: (position: number) => string): string {
  const record = (divergence.got ?? divergence.expected) as { ts?: string; kind?: string; stream_id?: string; payload?: { reason?: string; crew?: string; slice?: number } };
  const what = divergence.of === 'action' ? `action ${record.kind} at ${record.ts} on ${record.stream_id}` : `error ${record.payload?.reason} at ${record.ts} on ${record.stream_id}`;
  const origin = divergence.origin;
  const from =
    origin !== undefined
      ? ` (crew ${origin.crew}.${origin.method}, slice ${origin.slice}, event ${locate(origin.position)})`
      : record.payload?.crew !== undefined
        ? ` (crew ${record.payload.crew}${record.payload.slice !== undefined ? `, slice ${record.payload.slice}` : ''})`
        : '';
  if (divergence.kind === 'missing') return `missing: ${what}${from}: recorded, not emitted now: payload ${showValue((divergence.expected as { payload?: unknown }).payload)}`;
  if (divergence.kind === 'extra') return `extra: ${what}${from}: emitted now, not recorded: payload ${showValue((divergence.got as { payload?: unknown }).payload)}`;
  const { path, expected, got } = divergence.difference!;
  return `changed: ${what}${from}: ${path}: expected ${showValue(expected)}, got ${showValue(got)}`;
}

/** What identifies a record in the output, beside its payload. */
function keyOf(of: Divergence['of'], record: unknown): string {
  const r = (record ?? {}) as { ts?: unknown; kind?: unknown; stream_id?: unknown; payload?: { reason?: unknown; crew?: unknown; slice?: unknown } };
  return JSON.stringify(of === 'action' ? [r.ts, r.stream_id, r.kind] : [r.ts, r.stream_id, r.payload?.reason, r.payload?.crew, r.payload?.slice]);
}

/** An error record without `source`: it names where the input was read (a file's line, a JetStream sequence), not what happened. */
function withoutSource(record: unknown): unknown {
  const r = record as { payload?: Record<string, unknown> };
  if (typeof r !== 'object' || r === null || typeof r.payload !== 'object' || r.payload === null) return record;
  const { source: _source, ...payload } = r.payload;
  return { ...r, payload };
}

/** The crew, method, slice and event position in an action's id (`<stream>:<slice>:<crew>.<method>:<position>:<index>`). */
function originOf(id: string): Divergence['origin'] {
  const match = /:(-?\d+):([^:.]+)\.([^:]+):(\d+):\d+$/.exec(id);
  return match === null ? undefined : { slice: Number(match[1]), crew: match[2]!, method: match[3]!, position: Number(match[4]) };
}
