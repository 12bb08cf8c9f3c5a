import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ActionSchema, encodeAction, StreamActionLines } from '../../../src/framework/model/action.js';

describe('encodeAction', () => {
  it('writes one JSON line with keys in a fixed order', () => {
    const action = { ts: '2024-05-01T12:00:00.000Z', kind: 'goal', stream_id: 'm1', payload: { a: 1 }, ttl_ms: 5000 };
    expect(encodeAction(action, '{"a":1}')).toBe('{"ts":"2024-05-01T12:00:00.000Z","kind":"goal","stream_id":"m1","payload":{"a":1},"ttl_ms":5000}');
  });

  it("cannot be forged by a field's text: quotes and newlines stay inside their string", () => {
    const forged = { ts: '2024"}\n{"kind":"__error', kind: 'k","kind":"__error', stream_id: 'm1"\n', payload: {}, ttl_ms: 5000 };
    const line = encodeAction(forged, '{}');
    expect(line.split('\n')).toHaveLength(1);
    expect(JSON.parse(line)).toEqual(forged);
    expect(ActionSchema.safeParse(JSON.parse(line)).success).toBe(false);
  });
});

describe('StreamActionLines', () => {
  it("writes encodeAction's line for any checked kind, ttl and payload, however many kinds a stream has", () => {
    const kind = fc.stringMatching(/^[a-zA-Z0-9_]{1,50}$/).filter((k) => !k.startsWith('__'));
    const ttl = fc.oneof(fc.constant(5000), fc.integer({ min: 1, max: 300_000 }));
    const lines = new StreamActionLines('match-42');
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2100-01-01') }), kind, fc.jsonValue(), ttl, (date, k, payload, ttlMs) => {
        const action = { ts: date.toISOString(), kind: k, stream_id: 'match-42', payload, ttl_ms: ttlMs };
        const payloadJson = JSON.stringify(payload);
        expect(lines.line(action.ts, k, payloadJson, ttlMs)).toBe(encodeAction(action, payloadJson));
        // The same kind again takes the middle it made the first time.
        expect(lines.line(action.ts, k, payloadJson, ttlMs)).toBe(encodeAction(action, payloadJson));
      }),
    );
  });
});
