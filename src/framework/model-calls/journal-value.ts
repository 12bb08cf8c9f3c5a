/**
 * Model answers as JSON for the journal, and back. Answers hold what JSON has no form for
 * (a response's `Date`, a generated file's bytes): those are tagged, so a replayed answer is the
 * recorded one, value for value.
 */

const DATE = '$date';
const BYTES = '$bytes';

/** A JSON copy of `value`, with dates and byte arrays tagged; `undefined` fields are dropped. */
export function toJournalValue(value: unknown): unknown {
  if (value instanceof Date) return { [DATE]: value.toISOString() };
  if (value instanceof Uint8Array) return { [BYTES]: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toJournalValue);
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) if (field !== undefined) copy[key] = toJournalValue(field);
    return copy;
  }
  return value;
}

/** The value `toJournalValue` made a JSON copy of. */
export function fromJournalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJournalValue);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && typeof record[DATE] === 'string') return new Date(record[DATE]);
    if (keys.length === 1 && typeof record[BYTES] === 'string') return new Uint8Array(Buffer.from(record[BYTES], 'base64'));
    const copy: Record<string, unknown> = {};
    for (const key of keys) copy[key] = fromJournalValue(record[key]);
    return copy;
  }
  return value;
}

/** A stream of recorded parts, as a model's `doStream` hands them over. */
export function streamOf<T>(parts: readonly T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}
