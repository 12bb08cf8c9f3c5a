import { describe, expect, it } from 'vitest';
import { ActionSchema, encodeAction } from '../../../src/framework/model/action.js';

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
