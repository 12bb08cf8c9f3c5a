/** Generated input for the benchmarks: one event per ms, four streams, three kinds. */

const T0 = Date.parse('2024-05-01T12:00:00Z');
const KINDS = ['pass', 'shot', 'tackle'];

/**
 * The i-th generated event as a JSONL line: a flat string, as a source reading bytes makes it.
 * (A template literal makes a tree of string pieces that the first JSON.parse of it flattens:
 * whichever pipeline read the lines first would pay for that.)
 */
export function eventLine(i: number): string {
  const ts = new Date(T0 + i).toISOString();
  return Buffer.from(`{"ts":"${ts}","kind":"${KINDS[i % 3]}","stream_id":"match-${i % 4}","payload":{"v":${i % 97}}}`).toString();
}
