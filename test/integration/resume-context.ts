import { expect, it } from 'vitest';
import { Crew, OnEvent, type CrewContext, type Event, type LiveCrewConfigInput } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

@Crew({ id: 'goals' })
class Goals {
  @OnEvent('goal')
  on(_event: Event, ctx: CrewContext): void {
    const total = (ctx.context.get<number>('goals') ?? 0) + 1;
    ctx.context.set('goals', total);
    ctx.emit('total', { total });
  }
}

/** A run persists its context through the configured backend, and the next run on the stream resumes from it. */
export function itResumesContextThrough(config: () => LiveCrewConfigInput): void {
  it('an app configured with this backend resumes a stream from the context a previous run stored', async () => {
    const stream = `resume-${Date.now()}`;
    const goal = (ms: number) => ({ ts: new Date(Date.parse('2024-05-18T15:00:00Z') + ms).toISOString(), kind: 'goal', stream_id: stream });
    const first = await (await createTestingApp({ crews: [Goals], config: config() })).run([goal(0), goal(100)]);
    expect(first.context(stream)).toEqual({ goals: 2 });
    const second = await (await createTestingApp({ crews: [Goals], config: config() })).run([goal(60_000)]);
    expect(second.actions.map((a) => a.payload)).toEqual([{ total: 3 }]);
  });
}
