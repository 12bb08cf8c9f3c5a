import { describe, expect, it } from 'vitest';
import { Crew, inject, injectable, OnEvent, singleton, type CrewContext, type Event } from '../../src/index.js';
import { createTestingApp } from '../../src/testing.js';

// What a user writes with live-crew's own exports, importing nothing from tsyringe.
interface Clock {
  now(): string;
}
const CLOCK_TOKEN = Symbol('Clock');

@injectable()
class Formatter {
  constructor(@inject(CLOCK_TOKEN) private readonly clock: Clock) {}
  line(name: string): string {
    return `${name} at ${this.clock.now()}`;
  }
}

@singleton()
class Counter {
  count = 0;
}

@Crew({ id: 'greeter' })
class Greeter {
  constructor(
    private readonly formatter: Formatter,
    private readonly counter: Counter,
  ) {}

  @OnEvent('signup')
  onSignup(event: Event<{ name: string }>, ctx: CrewContext) {
    this.counter.count++;
    ctx.emit('greeting', { line: this.formatter.line(event.payload.name), n: this.counter.count });
  }
}

describe('DI through live-crew exports: injectable, inject (an interface token), singleton', () => {
  it('a crew gets a service whose own dependency is an interface bound to a token', async () => {
    const t = await createTestingApp({ crews: [Greeter], providers: [{ token: CLOCK_TOKEN, useValue: { now: () => 'noon' } satisfies Clock }] });
    const r = await t.run([
      { ts: '2024-05-01T12:00:00Z', kind: 'signup', stream_id: 's', payload: { name: 'Ada' } },
      { ts: '2024-05-01T12:00:01Z', kind: 'signup', stream_id: 's', payload: { name: 'Alan' } },
    ]);
    expect(r.errors).toEqual([]);
    expect(r.actions.map((a) => a.payload)).toEqual([
      { line: 'Ada at noon', n: 1 },
      { line: 'Alan at noon', n: 2 },
    ]);
  });
});
