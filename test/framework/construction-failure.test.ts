import { describe, expect, it } from 'vitest';
import { ConstructionError, Crew, inject, injectable, OnEvent } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

/** What constructing a crew fails with, as a user sees it. */
async function constructionFailure(crew: new (...args: never[]) => object): Promise<ConstructionError> {
  const failure = await (await createTestingApp({ crews: [crew] })).run([]).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ConstructionError);
  return failure as ConstructionError;
}

interface Clock {
  now(): number;
}

describe("a crew's construction failure, when DI cannot construct it", () => {
  it('names each constructor and parameter down to a service that is not @injectable, and says to mark it', async () => {
    class Odds {
      constructor(readonly margin: Margin) {}
    }
    class Margin {}
    @injectable()
    class Pricing {
      constructor(readonly odds: Odds) {}
    }
    @Crew({ id: 'trader' })
    class Trader {
      constructor(readonly pricing: Pricing) {}
      @OnEvent('tick') on(): void {}
    }
    const failure = await constructionFailure(Trader);
    expect(failure.message).toBe(
      'cannot construct crew "trader" (Trader): Trader(#0 Pricing) → Pricing(#0 Odds): Odds has constructor parameters but no @injectable(). To fix: mark it @injectable() (exported by live-crew), or register it in providers; nothing has run.',
    );
    expect(failure.failure).toEqual({
      path: [
        { className: 'Trader', index: 0, token: 'Pricing' },
        { className: 'Pricing', index: 0, token: 'Odds' },
      ],
      problem: 'not-injectable',
      subject: 'Odds',
    });
  });

  it('says a parameter typed by an interface needs @inject and a token', async () => {
    @injectable()
    class Stopwatch {
      constructor(readonly clock: Clock) {}
    }
    @Crew({ id: 'timer' })
    class Timer {
      constructor(readonly stopwatch: Stopwatch) {}
      @OnEvent('tick') on(): void {}
    }
    const failure = await constructionFailure(Timer);
    expect(failure.message).toBe(
      'cannot construct crew "timer" (Timer): Timer(#0 Stopwatch) → Stopwatch(#0 typed by an interface): a parameter typed by an interface has no runtime type. To fix: give it @inject(TOKEN) and register TOKEN in providers; nothing has run.',
    );
    expect(failure.failure.problem).toBe('interface');
  });

  it('names the service whose constructor threw, deep in the trail', async () => {
    const KEY = Symbol('api key');
    @injectable()
    class Client {
      constructor(@inject(KEY) readonly key: string) {
        if (key === '') throw new Error('empty API key');
      }
    }
    @Crew({ id: 'caller' })
    class Caller {
      constructor(readonly client: Client) {}
      @OnEvent('tick') on(): void {}
    }
    const failure = await (await createTestingApp({ crews: [Caller], providers: [{ token: KEY, useValue: '' }] })).run([]).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('cannot construct crew "caller" (Caller): the constructor at Caller(#0 Client) threw: empty API key. Fix that constructor; nothing has run.');
    expect((failure as ConstructionError).failure).toMatchObject({ path: [{ className: 'Caller', index: 0, token: 'Client' }], problem: 'threw', subject: 'Client' });
  });
});

describe('a crew whose dependencies form a cycle of classes', () => {
  it('is refused at once, naming the class that needs itself, before the container recurses down it', async () => {
    @injectable()
    class Recursive {
      constructor(readonly inner: Recursive) {}
    }
    @Crew({ id: 'looper' })
    class Looper {
      constructor(readonly recursive: Recursive) {}
      @OnEvent('tick') on(): void {}
    }
    const failure = await constructionFailure(Looper);
    expect(failure.failure).toMatchObject({ problem: 'cycle', subject: 'Recursive' });
    expect(failure.message).toBe(
      'cannot construct crew "looper" (Looper): Looper(#0 Recursive) → Recursive(#0 Recursive): Recursive needs itself through this chain, so it can never be constructed. To fix: break the cycle (one side takes the other through a method, or `delay(() => Class)`); nothing has run.',
    );
  });
});
