import { describe, expect, it } from 'vitest';
import { Crew, DependsOn, OnEvent, type CrewContext, type Event } from '../../src/index.js';
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

@Crew({ id: 'commentator' })
@DependsOn({ crew: 'score_tracker', offset: -1 })
@DependsOn({ crew: 'stats', offset: 0 })
class Commentator {
  @OnEvent('goal')
  onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) {
    const score = ctx.context.get<Score>('score') ?? { home: 0, away: 0 };
    ctx.emit('line', { text: `Goal for ${event.payload.team}! It was ${score.home}-${score.away}.` });
  }
}

describe('createTestingApp({ stubCrews }): a crew with dependencies tested alone', () => {
  it('without its dependencies the crew cannot start; with them stubbed it runs, reading the seeded context', async () => {
    await expect(createTestingApp({ crews: [Commentator] })).rejects.toThrow(/depends on unknown crew/);
    const t = await createTestingApp({ crews: [Commentator], stubCrews: ['score_tracker', 'stats'], context: { m1: { score: { home: 1, away: 0 } } } });
    const r = await t.run([goal(0, 'away'), goal(700, 'home')]);
    expect(r.errors).toEqual([]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ text: 'Goal for away! It was 1-0.' }, { text: 'Goal for home! It was 1-0.' }]);
  });

  it('a stub whose id is taken, or is no crew id, is refused as a crew would be', async () => {
    await expect(createTestingApp({ crews: [Commentator, ScoreTracker], stubCrews: ['score_tracker', 'stats'] })).rejects.toThrow(/score_tracker/);
    await expect(createTestingApp({ crews: [Commentator], stubCrews: ['score tracker', 'stats'] })).rejects.toThrow(/score tracker/);
  });
});
