import { describe, expect, it } from 'vitest';
import { compareRecordings, firstDifference } from '../../../src/framework/replay/recording-comparison.js';
import type { ErrorRecord } from '../../../src/framework/model/error-record.js';

const action = (ts: string, kind: string, payload: unknown, id = `m1:0:crew.on:1:0`) => ({
  action: { ts, kind, stream_id: 'm1', payload, ttl_ms: 5000 },
  json: JSON.stringify({ ts, kind, stream_id: 'm1', payload, ttl_ms: 5000 }),
  id,
});

describe('comparing a re-run with its recording', () => {
  it('names the first path where two values differ, or nothing when they are equal', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBeUndefined();
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toEqual({ path: 'a[1].b', expected: 2, got: 3 });
    expect(firstDifference({ a: [1] }, { a: [1, 2] })).toEqual({ path: 'a[1]', expected: undefined, got: 2 });
    expect(firstDifference({ a: null }, { a: {} })).toEqual({ path: 'a', expected: null, got: {} });
    expect(firstDifference([1], { 0: 1 })).toEqual({ path: '(root)', expected: [1], got: { 0: 1 } });
  });

  it('matches records by what identifies them, so one missing record makes no later one differ', () => {
    const expected = [action('t1', 'a', { n: 1 }).action, action('t2', 'b', { n: 2 }).action, action('t3', 'c', { n: 3 }).action];
    const got = [action('t1', 'a', { n: 1 }), action('t3', 'c', { n: 30 }, 'm1:4:other.run:9:0')];
    expect(compareRecordings({ actions: expected, errors: [] }, { actions: got, errors: [] })).toEqual([
      {
        kind: 'changed',
        of: 'action',
        expected: expected[2],
        got: JSON.parse(got[1]!.json),
        difference: { path: 'payload.n', expected: 3, got: 30 },
        origin: { slice: 4, crew: 'other', method: 'run', position: 9 },
      },
      { kind: 'missing', of: 'action', expected: expected[1] },
    ]);
  });

  it('compares error records without their source, which names where the input was read', () => {
    const recorded = { ts: 't1', kind: '__error', stream_id: 'm1', payload: { reason: 'handler_error', message: 'boom', crew: 'c', slice: 0, source: 'events.jsonl:3' } };
    const now = { ...recorded, payload: { ...recorded.payload, source: 'nats:live.m1.events#3' } } as unknown as ErrorRecord;
    expect(compareRecordings({ actions: [], errors: [recorded] }, { actions: [], errors: [now] })).toEqual([]);
    const other = { ...recorded, payload: { ...recorded.payload, message: 'bang' } } as unknown as ErrorRecord;
    expect(compareRecordings({ actions: [], errors: [recorded] }, { actions: [], errors: [other] })[0]).toMatchObject({
      kind: 'changed',
      of: 'error',
      difference: { path: 'payload.message', expected: 'boom', got: 'bang' },
    });
  });
});
