import { describe, expect, it } from 'vitest';
import { createTestingApp } from 'live-crew/testing';
import { {{className}} } from '../src/{{file}}.js';

describe('{{className}}', () => {
  it('emits one action per event', async () => {
    const app = await createTestingApp({ crews: [{{className}}] });
    const { actions } = await app.run([{ ts: '2024-05-01T12:00:00Z', kind: 'ping', stream_id: 's1' }]);
    expect(actions.map((action) => [action.kind, action.payload])).toEqual([['{{id}}_seen', { kind: 'ping' }]]);
  });
});
