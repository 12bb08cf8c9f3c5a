import { describe, expect, it } from 'vitest';
import { CONTEXT_SINK, Crew, OnEvent, type ContextRecord, type ContextSink, type CrewContext, type Event } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: object = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });

class CollectingContextSink implements ContextSink {
  readonly records: ContextRecord[] = [];
  write(records: readonly ContextRecord[]): void {
    this.records.push(...records);
  }
  async close(): Promise<void> {}
}

@Crew({ id: 'scorer' })
class Scorer {
  @OnEvent('goal')
  onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) {
    const score = ctx.context.get<Record<string, number>>('score') ?? { home: 0, away: 0 };
    ctx.context.set('score', { ...score, [event.payload.team]: score[event.payload.team]! + 1 });
  }

  @OnEvent('var')
  onVar(_event: Event, ctx: CrewContext) {
    ctx.context.delete('score');
    ctx.context.set('var', true);
    throw new Error('the VAR check fails: its writes are discarded');
  }

  @OnEvent('reset')
  onReset(_event: Event, ctx: CrewContext) {
    ctx.context.delete('score');
  }
}

describe('__context records (issue 14: the context broadcast)', () => {
  it("each merged slice that changed the context gives one record: its snapshot, what it set and deleted, stamped with the slice's end", async () => {
    const sink = new CollectingContextSink();
    const t = await createTestingApp({ crews: [Scorer], providers: [{ token: CONTEXT_SINK, useValue: sink }] });
    await t.run([at(0, 'goal', { team: 'home' }), at(100, 'goal', { team: 'away' }), at(600, 'var'), at(1200, 'reset'), at(1300, 'goal', { team: 'home' }, 'm2')]);
    expect(sink.records).toEqual([
      { ts: '2024-05-01T12:00:00.500Z', kind: '__context', stream_id: 'm1', payload: { slice: 0, context: { score: { home: 1, away: 1 } }, changed: ['score'], deleted: [] } },
      { ts: '2024-05-01T12:00:01.500Z', kind: '__context', stream_id: 'm1', payload: { slice: 2, context: {}, changed: [], deleted: ['score'] } },
      // m2's epoch0 is its own first event.
      { ts: '2024-05-01T12:00:01.800Z', kind: '__context', stream_id: 'm2', payload: { slice: 0, context: { score: { home: 1, away: 0 } }, changed: ['score'], deleted: [] } },
    ]);
  });
});
