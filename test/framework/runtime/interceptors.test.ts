import { inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Crew, CrewDefinitionError, OnEvent, UseInterceptors, type CallNext, type CrewContext, type Event, type HandlerCall, type Interceptor } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';

const event = (kind: string, v = 1) => ({ ts: '2024-05-01T12:00:00.000Z', kind, stream_id: 's1', payload: { v } });

/** Records what runs, in order, into a shared trail. */
const trail: string[] = [];
function recorder(name: string): Interceptor {
  return {
    intercept(call: HandlerCall, next: CallNext) {
      trail.push(`${name}>${call.crew}.${call.handler}`);
      const result = next();
      trail.push(`<${name}`);
      return result;
    },
  };
}

@injectable()
class TrailName {
  readonly name = 'di';
}

@injectable()
class ResolvedThroughDi implements Interceptor {
  constructor(@inject(TrailName) private readonly label: TrailName) {}
  intercept(_call: HandlerCall, next: CallNext) {
    trail.push(`${this.label.name}>`);
    return next();
  }
}

@Crew({ id: 'ordered' })
@UseInterceptors(recorder('class-a'), recorder('class-b'))
@UseInterceptors(ResolvedThroughDi)
class Ordered {
  @OnEvent('tick')
  @UseInterceptors(recorder('method'))
  on(_event: Event, ctx: CrewContext): void {
    trail.push('handler');
    ctx.emit('ran');
  }
}

describe('interceptors', () => {
  it('run app-wide first, then the class (topmost decorator first), then the method, then the handler; classes through DI', async () => {
    trail.length = 0;
    const app = await createTestingApp({ crews: [Ordered], interceptors: [recorder('app')] });
    const { actions } = await app.run([event('tick')]);
    expect(actions.map((a) => a.kind)).toEqual(['ran']);
    expect(trail).toEqual(['app>ordered.on', 'class-a>ordered.on', 'class-b>ordered.on', 'di>', 'method>ordered.on', 'handler', '<method', '<class-b', '<class-a', '<app']);
  });

  it('may short-circuit (the handler does not run, the call succeeds), emit, or turn a failure into success', async () => {
    @Crew({ id: 'guarded' })
    @UseInterceptors({
      intercept(call: HandlerCall, next: CallNext) {
        if ((call.event.payload as { v: number }).v < 0) {
          call.ctx.emit('refused', { v: (call.event.payload as { v: number }).v });
          return undefined;
        }
        try {
          return next();
        } catch {
          call.ctx.emit('recovered');
          return undefined;
        }
      },
    })
    class Guarded {
      @OnEvent('tick')
      on(event: Event<{ v: number }>, ctx: CrewContext): void {
        if (event.payload.v === 0) throw new Error('zero');
        ctx.emit('ran', { v: event.payload.v });
      }
    }
    const app = await createTestingApp({ crews: [Guarded] });
    const { actions, errors } = await app.run([event('tick', -1), event('tick', 0), event('tick', 2)]);
    expect(actions.map((a) => [a.kind, a.payload])).toEqual([
      ['refused', { v: -1 }],
      ['recovered', {}],
      ['ran', { v: 2 }],
    ]);
    expect(errors).toEqual([]);
  });

  it('times async handlers: code after an awaited next() runs when the handler has finished', async () => {
    const durations: number[] = [];
    @Crew({ id: 'slow' })
    class Slow {
      @OnEvent('tick')
      async on(_event: Event, ctx: CrewContext): Promise<void> {
        await new Promise((done) => setTimeout(done, 20));
        ctx.emit('done');
      }
    }
    const timing: Interceptor = {
      async intercept(_call, next) {
        const started = performance.now();
        try {
          return await next();
        } finally {
          durations.push(performance.now() - started);
        }
      },
    };
    const app = await createTestingApp({ crews: [Slow], interceptors: [timing] });
    const { actions } = await app.run([event('tick')]);
    expect(actions).toHaveLength(1);
    expect(durations).toHaveLength(1);
    expect(durations[0]).toBeGreaterThanOrEqual(15);
  });

  it('an interceptor that throws fails the call like a handler error', async () => {
    @Crew({ id: 'vetoed' })
    @UseInterceptors({
      intercept: () => {
        throw new Error('veto');
      },
    })
    class Vetoed {
      @OnEvent('tick')
      on(_event: Event, ctx: CrewContext): void {
        ctx.emit('ran');
      }
    }
    const { actions, errors } = await (await createTestingApp({ crews: [Vetoed] })).run([event('tick')]);
    expect(actions).toEqual([]);
    expect(errors.map((e) => [e.payload.reason, e.payload.message])).toEqual([['handler_error', 'vetoed.on threw: veto']]);
  });

  it('refuses, at start, an interceptor without intercept() or one DI cannot build, naming crew and interceptor', async () => {
    class NotOne {}
    @Crew({ id: 'odd' })
    @UseInterceptors(NotOne as never)
    class Odd {
      @OnEvent('tick')
      on(): void {}
    }
    await expect(createTestingApp({ crews: [Odd] }).then((app) => app.run([]))).rejects.toThrow(CrewDefinitionError);
    await expect(createTestingApp({ crews: [Odd] }).then((app) => app.run([]))).rejects.toThrow(/crew odd: interceptor NotOne has no intercept\(call, next\) method/);

    class NeedsUnknown implements Interceptor {
      constructor(readonly dep: unknown) {}
      intercept(_call: HandlerCall, next: CallNext) {
        return next();
      }
    }
    @Crew({ id: 'needy' })
    @UseInterceptors(NeedsUnknown)
    class Needy {
      @OnEvent('tick')
      on(): void {}
    }
    await expect(createTestingApp({ crews: [Needy] }).then((app) => app.run([]))).rejects.toThrow(/crew needy: interceptor NeedsUnknown cannot be constructed/);
  });
});
