import { Crew, OnEvent, createLiveCrewApp, type CrewContext, type Event } from 'live-crew';

type Score = { home: number; away: number };

@Crew({ id: 'score_tracker' })
export class ScoreTracker {
  @OnEvent('goal_scored')
  onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext): void {
    const score = ctx.context.get<Score>('score') ?? { home: 0, away: 0 };
    const next = { ...score, [event.payload.team]: score[event.payload.team] + 1 };
    ctx.context.set('score', next); // the crew's next calls see it; other crews from the next slice
    ctx.emit('score_update', next); // an action, stamped with the event's ts
  }
}

const app = await createLiveCrewApp({ crews: [ScoreTracker], config: { input: 'examples/quickstart/goals.jsonl' } });
const summary = await app.run(); // actions on stdout, errors on stderr
console.error(summary, app.context('match42'));
