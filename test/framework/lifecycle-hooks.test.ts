import { describe, expect, it } from 'vitest';
import { createLiveCrewApp, Crew, DependsOn, injectable, LifecycleError, LOGGER, OnEvent, type CrewContext, type Logger, type OnStart, type OnStop } from '../../src/index.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, createTestingApp } from '../../src/testing.js';
import { ACTION_SINK, ERROR_SINK, EVENT_SOURCE } from '../../src/index.js';

const TICK = { ts: '2024-05-01T12:00:00Z', kind: 'tick', stream_id: 'm1', payload: {} };

/** A log of what happened, in order, shared by the crews and services of one test. */
function journal() {
  const entries: string[] = [];
  return { entries, note: (entry: string) => entries.push(entry) };
}

describe('onStart and onStop, on crews and on the services given as providers', () => {
  it('start services (in registration order) then crews (in run order) before the first event, and stop them in reverse after the last', async () => {
    const log = journal();
    @injectable()
    class Feed implements OnStart, OnStop {
      onStart() {
        log.note('feed start');
      }
      async onStop() {
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.note('feed stop');
      }
    }
    const cache = { onStart: () => log.note('cache start'), onStop: () => log.note('cache stop') };
    @Crew({ id: 'scorer' })
    class Scorer implements OnStart, OnStop {
      constructor(readonly feed: Feed) {}
      async onStart() {
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.note('scorer start');
      }
      onStop() {
        log.note('scorer stop');
      }
      @OnEvent('tick') on(): void {
        log.note('scorer tick');
      }
    }
    @Crew({ id: 'graphics' })
    @DependsOn({ crew: 'scorer', offset: 0 })
    class Graphics implements OnStart, OnStop {
      onStart() {
        log.note('graphics start');
      }
      onStop() {
        log.note('graphics stop');
      }
      @OnEvent('tick') on(_event: unknown, ctx: CrewContext): void {
        log.note('graphics tick');
        ctx.emit('drawn', {});
      }
    }
    const t = await createTestingApp({
      crews: [Graphics, Scorer],
      providers: [
        { token: Feed, useClass: Feed },
        { token: 'cache', useValue: cache },
      ],
    });
    expect(log.entries).toEqual([]);
    const r = await t.run([TICK]);
    expect(r.actions).toHaveLength(1);
    expect(log.entries).toEqual(['feed start', 'cache start', 'scorer start', 'graphics start', 'scorer tick', 'graphics tick', 'graphics stop', 'scorer stop', 'cache stop', 'feed stop']);
  });

  it('gives each instance of a transient service its own hooks', async () => {
    const started: string[] = [];
    let made = 0;
    @injectable()
    class Connection {
      readonly n = ++made;
      onStart() {
        started.push(`connection ${this.n}`);
      }
    }
    @Crew({ id: 'a' })
    class A {
      constructor(readonly connection: Connection) {}
      @OnEvent('tick') on(): void {}
    }
    @Crew({ id: 'b' })
    class B {
      constructor(readonly connection: Connection) {}
      @OnEvent('tick') on(): void {}
    }
    await (await createTestingApp({ crews: [A, B], providers: [{ token: Connection, useClass: Connection }] })).run([TICK]);
    expect(started).toEqual(['connection 1', 'connection 2']);
  });

  it('an onStart that throws fails the run with a LifecycleError naming the crew; what had started is stopped, and no event is handled', async () => {
    const log = journal();
    @Crew({ id: 'first' })
    class First {
      onStart() {
        log.note('first start');
      }
      onStop() {
        log.note('first stop');
      }
      @OnEvent('tick') on(): void {
        log.note('first tick');
      }
    }
    @Crew({ id: 'broken' })
    @DependsOn({ crew: 'first', offset: 0 })
    class Broken {
      onStart(): void {
        throw new Error('no connection to the odds feed');
      }
      onStop() {
        log.note('broken stop');
      }
      @OnEvent('tick') on(): void {
        log.note('broken tick');
      }
    }
    const failure = await (await createTestingApp({ crews: [First, Broken] })).run([TICK]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LifecycleError);
    expect((failure as Error).message).toBe('crew "broken" (Broken): onStart() threw: no connection to the odds feed. The run did not start; what had started was stopped.');
    expect(log.entries).toEqual(['first start', 'first stop']);
  });

  it('an onStop that throws is logged as an error naming it; the others still stop and the run ends with its summary', async () => {
    const log = journal();
    const logged: Array<{ msg: string; fields: object }> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (fields, msg) => logged.push({ msg, fields }),
      child: () => logger,
    };
    @Crew({ id: 'steady' })
    class Steady {
      onStop() {
        log.note('steady stop');
      }
      @OnEvent('tick') on(_event: unknown, ctx: CrewContext): void {
        ctx.emit('seen', {});
      }
    }
    @Crew({ id: 'leaky' })
    class Leaky {
      onStop(): void {
        throw new Error('flush failed');
      }
      @OnEvent('tick') on(): void {}
    }
    const actions = new CollectingActionSink();
    const app = await createLiveCrewApp({
      crews: [Steady, Leaky],
      configFile: false,
      env: {},
      providers: [
        { token: EVENT_SOURCE, useValue: new ArrayEventSource([TICK]) },
        { token: ACTION_SINK, useValue: actions },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
        { token: LOGGER, useValue: logger },
      ],
    });
    const summary = await app.run();
    expect(summary).toMatchObject({ events: 1, actions: 1 });
    expect(log.entries).toEqual(['steady stop']);
    expect(logged).toEqual([{ msg: 'crew "leaky" (Leaky): onStop() threw (the others were still stopped)', fields: { member: 'crew "leaky" (Leaky)', error: 'flush failed' } }]);
  });
});
