import { describe, expect, it } from 'vitest';
import { createTestingApp } from 'live-crew/testing';
import { Greeter, Phrasebook } from '../src/greeter.js';

describe('Greeter', () => {
  it('greets each player with the phrasebook it is given, counting players', async () => {
    const phrasebook: Phrasebook = { greeting: (name) => `hi ${name}` };
    const app = await createTestingApp({ crews: [Greeter], providers: [{ token: Phrasebook, useValue: phrasebook }] });
    const { actions } = await app.run([
      { ts: '2024-05-01T12:00:00Z', kind: 'player_joined', stream_id: 'lobby', payload: { name: 'Ada' } },
      { ts: '2024-05-01T12:00:01Z', kind: 'player_joined', stream_id: 'lobby', payload: { name: 'Lin' } },
    ]);
    expect(actions.map((action) => action.payload)).toEqual([
      { text: 'hi Ada', players: 1 },
      // The count of the previous slice (500 ms each) plus this crew's own writes in this one.
      { text: 'hi Lin', players: 2 },
    ]);
  });
});
