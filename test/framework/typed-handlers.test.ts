import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Crew, OnEvent, type CrewContext, type Event } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

// `npm run typecheck` compiles this file: each @ts-expect-error below must be an error, or the
// typecheck fails. The handler's event type follows @OnEvent's payload schema.
const Goal = z.object({ team: z.enum(['home', 'away']), minute: z.number().int() });

@Crew({ id: 'typed' })
class Typed {
  @OnEvent('goal', { payload: Goal })
  onGoal(event: Event<z.output<typeof Goal>>, ctx: CrewContext) {
    ctx.emit('goal_seen', { team: event.payload.team, minute: event.payload.minute });
  }

  // @ts-expect-error the schema's payload has no `player`: the declared event type does not match it
  @OnEvent('goal', { payload: Goal })
  onGoalWrongType(event: Event<{ player: string }>, ctx: CrewContext) {
    ctx.emit('never', { player: event.payload.player });
  }

  // @ts-expect-error a handler takes the event first: a context first fails at run time, so it does not compile
  @OnEvent('card')
  onCard(ctx: CrewContext) {
    ctx.emit('never', {});
  }

  // Without a schema a handler declares the payload type it expects, as before.
  @OnEvent('kick_off')
  onKickOff(event: Event<{ referee: string }>, ctx: CrewContext) {
    ctx.emit('kick_off_seen', { referee: event.payload.referee });
  }
}

describe('@OnEvent types the handler by its payload schema', () => {
  it('a handler typed by its schema gets the parsed payload', async () => {
    const t = await createTestingApp({ crews: [Typed] });
    const r = await t.run([
      { ts: '2024-05-01T12:00:00Z', kind: 'kick_off', stream_id: 'm', payload: { referee: 'Collina' } },
      { ts: '2024-05-01T12:00:01Z', kind: 'goal', stream_id: 'm', payload: { team: 'home', minute: 3 } },
    ]);
    expect(r.actions.filter((a) => a.kind !== 'never').map((a) => [a.kind, a.payload])).toEqual([
      ['kick_off_seen', { referee: 'Collina' }],
      ['goal_seen', { team: 'home', minute: 3 }],
    ]);
  });
});
