import { describe, expect, it } from 'vitest';
import { Crew, DependsOn, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';

const at = (ms: number, kind: string) => ({ ts: new Date(Date.parse('2024-05-01T12:00:00Z') + ms).toISOString(), kind, stream_id: 'm1', payload: {} });

@Crew({ id: 'scorer' })
class Scorer {
  @OnEvent('goal')
  on(_event: Event, ctx: CrewContext): void {
    ctx.emit('scored', {});
  }
}

@Crew({ id: 'after_kickoff' })
@DependsOn({ event: 'kickoff' })
class AfterKickoff {
  @OnEvent('goal')
  on(_event: Event, ctx: CrewContext): void {
    ctx.emit('counted', {});
  }
}

@Crew({ id: 'everything' })
class Everything {
  @OnEvent('*')
  on(): void {}
}

describe('the crews that never ran, in the run summary', () => {
  it('names each with why: here, a dependency on an event that never came; a crew that ran, or takes every kind, is not named', async () => {
    const r = await (await createTestingApp({ crews: [Scorer, AfterKickoff, Everything] })).run([at(0, 'goal'), at(1500, 'goal')]);
    expect(r.actions.map((action) => action.kind)).toEqual(['scored', 'scored']);
    expect(r.summary.idleCrews).toEqual([{ crew: 'after_kickoff', message: 'crew after_kickoff never ran: its dependencies were unmet in 2 slices (dependency_unmet records)' }]);
  });

  it('names none for a run with no event: nothing could run', async () => {
    const r = await (await createTestingApp({ crews: [Scorer, AfterKickoff] })).run([]);
    expect(r.summary.idleCrews).toEqual([]);
  });
});
