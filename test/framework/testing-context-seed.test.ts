import { describe, expect, it } from 'vitest';
import { Crew, OnEvent, type CrewContext, type Event } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

type Score = { home: number; away: number };

@Crew({ id: 'score_tracker' })
class ScoreTracker {
  @OnEvent('goal')
  onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) {
    const score = ctx.context.get<Score>('score') ?? { home: 0, away: 0 };
    ctx.context.set('score', { ...score, [event.payload.team]: score[event.payload.team] + 1 });
    ctx.emit('score', { ...score, [event.payload.team]: score[event.payload.team] + 1 });
  }
}

const goal = (ms: number, team: 'home' | 'away', stream = 'm1') => ({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + ms).toISOString(), kind: 'goal', stream_id: stream, payload: { team } });

describe('createTestingApp({ context }): a test starts from a context of its choosing', () => {
  it('the crews read the seeded context in slice 0, a stream not seeded starts empty, and every run starts from the seed again', async () => {
    const t = await createTestingApp({ crews: [ScoreTracker], context: { m1: { score: { home: 2, away: 1 }, venue: 'Anfield' } } });
    for (let run = 0; run < 2; run++) {
      const r = await t.run([goal(0, 'away'), goal(100, 'away', 'm2')]);
      expect(r.actions.map((a) => [a.stream_id, a.payload])).toEqual([
        ['m1', { home: 2, away: 2 }],
        ['m2', { home: 0, away: 1 }],
      ]);
      expect(r.context('m1')).toEqual({ score: { home: 2, away: 2 }, venue: 'Anfield' });
      expect(r.context('m2')).toEqual({ score: { home: 0, away: 1 } });
    }
  });

  it('refuses a seed that is not JSON contexts by stream id, naming the stream and key', async () => {
    await expect(createTestingApp({ crews: [ScoreTracker], context: { 'm 1': {} } })).rejects.toThrow(/createTestingApp options[\s\S]*context\.m 1/);
    await expect(createTestingApp({ crews: [ScoreTracker], context: { m1: { when: new Date(0) } as never } })).rejects.toThrow(/context\.m1\.when/);
    await expect(createTestingApp({ crews: [ScoreTracker], context: { m1: [1, 2] as never } })).rejects.toThrow(/context\.m1/);
  });
});
