/**
 * The slice of an instant: `floor((ts - epoch0) / sliceMs)` (DESIGN §3). Negative for instants
 * before `epoch0`, the `ts` of the first event received on the stream.
 *
 * @param ts - the instant, as epoch milliseconds or a `Date`
 * @param epoch0 - the stream's first event time, as epoch milliseconds or a `Date`
 * @param sliceMs - the slice length in milliseconds (> 0)
 * @example sliceIndex(Date.parse('2024-01-01T00:00:01.2Z'), Date.parse('2024-01-01T00:00:00Z'), 500) // 2
 */
export function sliceIndex(ts: number | Date, epoch0: number | Date, sliceMs: number): number {
  return Math.floor((+ts - +epoch0) / sliceMs);
}
