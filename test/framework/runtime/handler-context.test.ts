import { describe, expect, it } from 'vitest';
import { Crew, OnEvent, UseInterceptors, type CallNext, type CrewContext, type Event, type HandlerCall, type Interceptor } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';

const DOCUMENTED = ['context', 'crewId', 'embedder', 'emit', 'model', 'recorded', 'signal', 'slice', 'streamId', 'vectors'];
const VIEW = ['delete', 'get', 'has', 'set', 'snapshot'];
const INTERNAL = ['commitWrites', 'end', 'failWith', 'abort', 'actions', 'route', 'lane', 'envelope', 'outputId', 'knobs', 'holdVectorWrite', 'strayFault', 'pauseTimeout'];

/** Every property key reachable from a value, symbols included: its own, and each prototype's up to Object's. */
function reachable(value: object): string[] {
  const names = new Set<string>();
  for (let at: object | null = value; at !== null && at !== Object.prototype; at = Object.getPrototypeOf(at)) {
    for (const name of Reflect.ownKeys(at)) if (name !== 'constructor') names.add(String(name));
  }
  return [...names].sort();
}

describe("a handler's ctx (DESIGN §13)", () => {
  it('exposes the documented members and nothing else: no own keys, no internal method by prototype walk or in', async () => {
    const seen: Array<{ ctx: CrewContext; via: string }> = [];
    class Watch implements Interceptor {
      intercept(call: HandlerCall, next: CallNext) {
        seen.push({ ctx: call.ctx, via: 'interceptor' });
        return next();
      }
    }
    @Crew({ id: 'prober' })
    @UseInterceptors(new Watch())
    class Prober {
      @OnEvent('tick')
      on(_event: Event, ctx: CrewContext): void {
        seen.push({ ctx, via: 'handler' });
        ctx.context.set('seen', true);
        ctx.emit('probed', { keys: Object.keys(ctx) });
      }
    }
    const t = await createTestingApp({ crews: [Prober] });
    const result = await t.run([{ ts: '2024-05-01T12:00:00Z', kind: 'tick', stream_id: 's1', payload: {} }]);

    expect(seen.map(({ via }) => via)).toEqual(['interceptor', 'handler']);
    for (const { ctx } of seen) {
      expect(Object.keys(ctx)).toEqual([]);
      // Nor through its class: no static member beyond a function's own.
      expect(Object.getOwnPropertyNames(ctx.constructor).sort()).toEqual(['length', 'name', 'prototype']);
      expect(reachable(ctx)).toEqual(DOCUMENTED);
      expect(reachable(ctx.context)).toEqual(VIEW);
      for (const name of INTERNAL) {
        expect(name in ctx, name).toBe(false);
        expect(name in ctx.context, name).toBe(false);
      }
    }
    // The facade still does its work: the write merged, the action went out.
    expect(result.actions.map((action) => action.kind)).toEqual(['probed']);
    expect(result.context('s1')).toEqual({ seen: true });
  });

  it('keeps a call-ended guard: output through a ctx kept after the call is dropped and reported', async () => {
    let kept: CrewContext | undefined;
    @Crew({ id: 'keeper' })
    class Keeper {
      @OnEvent('tick')
      on(_event: Event, ctx: CrewContext): void {
        kept ??= ctx;
        if (kept !== ctx) kept.emit('late', {});
      }
    }
    const t = await createTestingApp({ crews: [Keeper] });
    const result = await t.run([
      { ts: '2024-05-01T12:00:00Z', kind: 'tick', stream_id: 's1', payload: {} },
      { ts: '2024-05-01T12:00:05Z', kind: 'tick', stream_id: 's1', payload: {} },
    ]);
    expect(result.actions).toEqual([]);
    expect(result.errors.map((error) => error.payload.message)).toEqual(['keeper: emit after the handler finished was ignored; await your work inside the handler']);
  });
});
