/** Generated input for the benchmarks: one event per ms, four streams, three kinds. */

const T0 = Date.parse('2024-05-01T12:00:00Z');
const KINDS = ['pass', 'shot', 'tackle'];

/** The i-th generated event as a JSONL line. */
export function eventLine(i: number): string {
  const ts = new Date(T0 + i).toISOString();
  return `{"ts":"${ts}","kind":"${KINDS[i % 3]}","stream_id":"match-${i % 4}","payload":{"v":${i % 97}}}`;
}
