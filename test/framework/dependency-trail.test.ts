import { describe, expect, it } from 'vitest';
import { Crew, CrewDefinitionError, inject, injectable, OnEvent } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

/** What constructing a crew fails with, as a user sees it. */
async function constructionFailure(crew: new (...args: never[]) => object): Promise<CrewDefinitionError> {
  const failure = await (await createTestingApp({ crews: [crew] })).run([]).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(CrewDefinitionError);
  return failure as CrewDefinitionError;
}

interface Clock {
  now(): number;
}

describe("a crew's dependency trail, when DI cannot construct it", () => {
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
    expect((await constructionFailure(Trader)).message).toBe(
      'cannot construct crew "trader" (Trader): Trader(pricing #0) → Pricing(odds #0): TypeInfo not known for "Odds". To fix: Odds has constructor parameters but no @injectable(): mark it @injectable() (exported by live-crew), or register it in providers; nothing has run.',
    );
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
    expect((await constructionFailure(Timer)).message).toBe(
      'cannot construct crew "timer" (Timer): Timer(stopwatch #0) → Stopwatch(clock #0): TypeInfo not known for "Object". To fix: a parameter typed by an interface has no runtime type: give it @inject(TOKEN) and register TOKEN in providers; nothing has run.',
    );
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
    expect((failure as Error).message).toBe('cannot construct crew "caller" (Caller): the constructor at Caller(client #0) threw: empty API key. Fix that constructor; nothing has run.');
  });
});
