import { inject, injectable } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Crew, DependsOn, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
/** `{a: {a: ... {}}}`, `levels` objects deep. */
const nested = (levels: number): object => {
  let value: object = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};

const at = (ms: number, kind = 'tick', payload: unknown = {}, streamId = 'm1') => ({
  ts: new Date(T0 + ms).toISOString(),
  kind,
  stream_id: streamId,
  payload,
});

@Crew({ id: 'writer' })
class Writer {
  @OnEvent('tick')
  on(event: Event<{ v?: number }>, ctx: CrewContext): void {
    ctx.context.set('last', event.payload.v ?? event.ts);
  }
}

@Crew({ id: 'reader' })
class Reader {
  @OnEvent('tick')
  on(_event: Event, ctx: CrewContext): void {
    ctx.emit('seen', { last: ctx.context.get('last') ?? null, slice: ctx.slice });
  }
}

describe('context visibility (DESIGN §4)', () => {
  it("a handler in slice n reads S(n-1): another crew's writes show from the next slice on", async () => {
    const t = await createTestingApp({ crews: [Writer, Reader] });
    const r = await t.run([at(0, 'tick', { v: 1 }), at(100, 'tick', { v: 2 }), at(600, 'tick', { v: 3 }), at(1700, 'tick', { v: 4 })]);
    expect(r.actions.map((a) => a.payload)).toEqual([
      { last: null, slice: 0 },
      { last: null, slice: 0 },
      { last: 2, slice: 1 },
      { last: 3, slice: 3 },
    ]);
    expect(r.context('m1')).toEqual({ last: 4 });
  });

  it("a crew reads its own earlier writes of the same slice, so counters don't lose updates", async () => {
    @Crew({ id: 'counter' })
    class Counter {
      @OnEvent('tick')
      on(_e: Event, ctx: CrewContext): void {
        ctx.context.set('n', (ctx.context.get<number>('n') ?? 0) + 1);
        ctx.emit('count', { n: ctx.context.get('n') });
      }
    }
    const r = await (await createTestingApp({ crews: [Counter] })).run([at(0), at(1), at(2), at(900)]);
    expect(r.actions.map((a) => (a.payload as { n: number }).n)).toEqual([1, 2, 3, 4]);
    expect(r.context('m1')).toEqual({ n: 4 });
  });

  it("merges last-writer-wins in crew run order, whatever the arrival order of crews' calls", async () => {
    const writerNamed = (id: string) => {
      @Crew({ id })
      class W {
        @OnEvent('tick')
        on(_e: Event, ctx: CrewContext): void {
          ctx.context.set('owner', id);
        }
      }
      return W;
    };
    const r = await (await createTestingApp({ crews: [writerNamed('zeta'), writerNamed('alpha')] })).run([at(0)]);
    expect(r.context('m1')).toEqual({ owner: 'zeta' });
  });

  it("merges a crew's last write in arrival order: what its own calls built up, even from out-of-order events", async () => {
    const r = await (await createTestingApp({ crews: [Writer], config: { lateness_ms: 1000 } })).run([at(0, 'tick', { v: 1 }), at(300, 'tick', { v: 3 }), at(200, 'tick', { v: 2 })]);
    expect(r.context('m1')).toEqual({ last: 2 });
  });

  it('deletes keys and lets a deletion win a merge', async () => {
    @Crew({ id: 'janitor' })
    class Janitor {
      @OnEvent('clear')
      on(_e: Event, ctx: CrewContext): void {
        ctx.context.delete('last');
        ctx.emit('cleared', { has: ctx.context.has('last'), view: ctx.context.snapshot() });
      }
    }
    const r = await (await createTestingApp({ crews: [Writer, Janitor] })).run([at(0, 'tick', { v: 1 }), at(600, 'clear')]);
    expect(r.actions).toEqual([expect.objectContaining({ kind: 'cleared', payload: { has: false, view: {} } })]);
    expect(r.context('m1')).toEqual({});
  });

  it("keeps each stream's context apart", async () => {
    const r = await (await createTestingApp({ crews: [Writer] })).run([at(0, 'tick', { v: 1 }, 'a'), at(0, 'tick', { v: 2 }, 'b')]);
    expect([r.context('a'), r.context('b'), r.context('c')]).toEqual([{ last: 1 }, { last: 2 }, undefined]);
  });

  it('stores copies: a handler can change neither what it stored nor what it reads', async () => {
    @Crew({ id: 'mutator' })
    class Mutator {
      @OnEvent('set')
      set(_e: Event, ctx: CrewContext): void {
        const value = { list: [1] };
        ctx.context.set('v', value);
        value.list.push(2);
      }
      @OnEvent('mutate')
      mutate(_e: Event, ctx: CrewContext): void {
        ctx.context.get<{ list: number[] }>('v')!.list.push(3);
      }
    }
    const r = await (await createTestingApp({ crews: [Mutator] })).run([at(0, 'set'), at(600, 'mutate')]);
    expect(r.context('m1')).toEqual({ v: { list: [1] } });
    expect(r.errorsOf('handler_error')[0]!.payload.message).toMatch(/mutator\.mutate threw: .*(not extensible|read only)/);
  });

  it('refuses a context value that is not JSON, as a handler error naming key and path', async () => {
    @Crew({ id: 'dater' })
    class Dater {
      @OnEvent('tick')
      on(event: Event, ctx: CrewContext): void {
        ctx.context.set('last', { at: new Date(event.ts) });
      }
    }
    const r = await (await createTestingApp({ crews: [Dater] })).run([at(0)]);
    expect(r.errors[0]!.payload.message).toMatch(/dater\.on threw: context\.set\("last"\): value\.at is a Date object/);
    expect(r.context('m1')).toEqual({});
  });

  it('caps the snapshot at context_max_bytes and publishes ctx_size, naming the dropped keys', async () => {
    @Crew({ id: 'hoarder' })
    class Hoarder {
      @OnEvent('tick')
      on(event: Event<{ n: number }>, ctx: CrewContext): void {
        ctx.context.set(`k${event.payload.n}`, 'x'.repeat(30));
      }
    }
    const r = await (await createTestingApp({ crews: [Hoarder], config: { context_max_bytes: 100, slice_ms: 500 } })).run([
      at(0, 'tick', { n: 1 }),
      at(10, 'tick', { n: 2 }),
      at(20, 'tick', { n: 3 }),
    ]);
    expect(Object.keys(r.context('m1')!)).toEqual(['k1', 'k2']);
    expect(r.errorsOf('ctx_size')).toEqual([
      {
        ts: at(500).ts,
        kind: '__error',
        stream_id: 'm1',
        payload: expect.objectContaining({ reason: 'ctx_size', slice: 0, message: expect.stringMatching(/over context_max_bytes 100; this slice's writes to "k3" were dropped/) }),
      },
    ]);
  });

  it('gives handlers frozen snapshots', async () => {
    @Crew({ id: 'vandal' })
    class Vandal {
      @OnEvent('tick')
      on(_e: Event, ctx: CrewContext): void {
        (ctx.context.snapshot() as Record<string, unknown>)['x'] = 1;
      }
    }
    const r = await (await createTestingApp({ crews: [Vandal] })).run([at(0)]);
    expect(r.errorsOf('handler_error')[0]!.payload.message).toMatch(/vandal\.on threw: .*(read only|not extensible)/);
  });
});

describe('handler calls', () => {
  it('takes events given in code with a Date ts, and JSON text lines', async () => {
    const r = await (await createTestingApp({ crews: [Reader] })).run([{ ts: new Date(T0), kind: 'tick', stream_id: 'm1' }, JSON.stringify(at(10)), '{broken']);
    expect(r.actions.map((a) => a.ts)).toEqual([at(0).ts, at(10).ts]);
    expect(r.errorsOf('invalid_event')[0]!.payload).toMatchObject({ source: 'input[2]', message: expect.stringMatching(/^not valid JSON/) });
  });

  it('calls each triggered handler once per event, in arrival order, with the action stamped with the event ts', async () => {
    @Crew({ id: 'echo' })
    class Echo {
      @OnEvent(['a', 'b'])
      on(event: Event, ctx: CrewContext): void {
        ctx.emit('echo', { kind: event.kind }, { ttlMs: 1000 });
      }
      @OnEvent('*')
      any(event: Event, ctx: CrewContext): void {
        ctx.emit('any', { kind: event.kind });
      }
    }
    // All three fall in slice 0 (epoch0 = the first event); lateness lets the older ones in.
    const r = await (await createTestingApp({ crews: [Echo], config: { lateness_ms: 5000 } })).run([at(0, 'c'), at(300, 'b'), at(100, 'a')]);
    expect(r.actions).toEqual([
      { ts: at(0).ts, kind: 'any', stream_id: 'm1', payload: { kind: 'c' }, ttl_ms: 5000 },
      { ts: at(300).ts, kind: 'echo', stream_id: 'm1', payload: { kind: 'b' }, ttl_ms: 1000 },
      { ts: at(300).ts, kind: 'any', stream_id: 'm1', payload: { kind: 'b' }, ttl_ms: 5000 },
      { ts: at(100).ts, kind: 'echo', stream_id: 'm1', payload: { kind: 'a' }, ttl_ms: 1000 },
      { ts: at(100).ts, kind: 'any', stream_id: 'm1', payload: { kind: 'a' }, ttl_ms: 5000 },
    ]);
  });

  it('awaits async handlers and publishes in crew run order even when a later crew finishes first', async () => {
    const slowCrew = (id: string, delayMs: number) => {
      @Crew({ id })
      class Slow {
        @OnEvent('tick')
        async on(_e: Event, ctx: CrewContext): Promise<void> {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          ctx.context.set(id, true);
          ctx.emit('done', { id });
        }
      }
      return Slow;
    };
    const r = await (await createTestingApp({ crews: [slowCrew('b_fast', 1), slowCrew('a_slow', 20)] })).run([at(0), at(600)]);
    expect(r.actions.map((a) => (a.payload as { id: string }).id)).toEqual(['a_slow', 'b_fast', 'a_slow', 'b_fast']);
    expect(r.context('m1')).toEqual({ a_slow: true, b_fast: true });
  });

  it('rejects a payload failing the handler schema for that crew only, and passes parsed payloads', async () => {
    @Crew({ id: 'strict' })
    class Strict {
      @OnEvent('goal', { payload: z.object({ minute: z.coerce.number().int() }) })
      on(event: Event<{ minute: number }>, ctx: CrewContext): void {
        ctx.emit('minute', { minute: event.payload.minute, type: typeof event.payload.minute });
      }
    }
    @Crew({ id: 'lenient' })
    class Lenient {
      @OnEvent('goal')
      on(_e: Event, ctx: CrewContext): void {
        ctx.emit('seen', {});
      }
    }
    const r = await (await createTestingApp({ crews: [Strict, Lenient] })).run([at(0, 'goal', { minute: '12' }), at(1, 'goal', { minute: 'late' })]);
    expect(r.actions.map((a) => a.kind)).toEqual(['seen', 'minute', 'seen']);
    expect(r.actions[1]!.payload).toEqual({ minute: 12, type: 'number' });
    expect(r.errors).toEqual([
      expect.objectContaining({
        stream_id: 'm1',
        payload: expect.objectContaining({ reason: 'invalid_event', crew: 'strict', slice: 0, source: 'input[1]', event: at(1, 'goal', { minute: 'late' }) }),
      }),
    ]);
    expect(r.errors[0]!.payload.message).toMatch(/payload rejected by strict\.on: minute: .*expected number.*\(got NaN\)/);
  });
});

describe('errors and isolation', () => {
  @Crew({ id: 'fragile', maxErrors: 2 })
  class Fragile {
    @OnEvent('tick')
    on(event: Event<{ fail?: boolean }>, ctx: CrewContext): void {
      ctx.emit('before_throw', {});
      ctx.context.set('fragile', event.ts);
      if (event.payload.fail) throw new Error('boom');
    }
  }
  @Crew({ id: 'steady' })
  class Steady {
    @OnEvent('tick')
    on(_e: Event, ctx: CrewContext): void {
      ctx.emit('steady', {});
    }
  }

  it("a crew that throws loses that call's actions and writes; other crews go on", async () => {
    const r = await (await createTestingApp({ crews: [Fragile, Steady] })).run([at(0, 'tick', { fail: true })]);
    expect(r.actions.map((a) => a.kind)).toEqual(['steady']);
    expect(r.context('m1')).toEqual({});
    expect(r.errors).toEqual([
      {
        ts: at(0).ts,
        kind: '__error',
        stream_id: 'm1',
        payload: expect.objectContaining({ reason: 'handler_error', message: 'fragile.on threw: boom', crew: 'fragile', slice: 0, source: 'input[0]' }),
      },
    ]);
  });

  it('disables a crew after maxErrors consecutive errors, once, and keeps the others running', async () => {
    const r = await (await createTestingApp({ crews: [Fragile, Steady] })).run([
      at(0, 'tick', { fail: true }),
      at(1, 'tick', {}), // a success resets the count
      at(2, 'tick', { fail: true }),
      at(3, 'tick', { fail: true }), // second in a row: disabled
      at(4, 'tick', {}),
    ]);
    expect(r.errors.map((e) => e.payload.reason)).toEqual(['handler_error', 'handler_error', 'handler_error', 'disabled']);
    expect(r.errorsOf('disabled')[0]!.payload).toMatchObject({ crew: 'fragile', message: expect.stringMatching(/crew fragile disabled after 2 consecutive errors/) });
    expect(r.actions.map((a) => a.kind)).toEqual(['steady', 'before_throw', 'steady', 'steady', 'steady', 'steady']);
    expect(r.summary.errorsByReason).toMatchObject({ handler_error: 3, disabled: 1 });
  });

  it('treats a rejected promise like a throw', async () => {
    @Crew({ id: 'rejecting' })
    class Rejecting {
      @OnEvent('tick')
      async on(): Promise<void> {
        throw new Error('async boom');
      }
    }
    const r = await (await createTestingApp({ crews: [Rejecting, Steady] })).run([at(0)]);
    expect(r.errors[0]!.payload.message).toBe('rejecting.on threw: async boom');
    expect(r.actions.map((a) => a.kind)).toEqual(['steady']);
  });

  it.each([
    ['a bad action kind', (ctx: CrewContext) => ctx.emit('has space'), /emit: action kind "has space" must match/],
    ['a reserved action kind', (ctx: CrewContext) => ctx.emit('__error'), /emit: action kind "__error"/],
    ['a ttl out of range', (ctx: CrewContext) => ctx.emit('ok', {}, { ttlMs: 300_001 }), /ttlMs 300001 must be an integer from 1 to 300000/],
    [
      'a payload with a cycle',
      (ctx: CrewContext) => {
        const o: Record<string, unknown> = {};
        o['self'] = o;
        ctx.emit('ok', o);
      },
      /emit "ok": payload\.self is a reference to itself \(a cycle\); action payloads must be JSON/,
    ],
    ['an oversize payload', (ctx: CrewContext) => ctx.emit('ok', { s: 'x'.repeat(2000) }), /emit "ok": payload is \d+ bytes, over the limit of 1024/],
    ['an undefined context value', (ctx: CrewContext) => ctx.context.set('k', undefined), /context.set\("k"\): value is undefined/],
    // What JSON.stringify would silently turn into something else, or drop:
    ['a Date in a payload', (ctx: CrewContext) => ctx.emit('ok', { at: new Date(0) }), /emit "ok": payload\.at is a Date object; action payloads must be JSON/],
    ['a Map payload', (ctx: CrewContext) => ctx.emit('ok', new Map([['a', 1]])), /emit "ok": payload is a Map object/],
    ['an undefined field in a payload', (ctx: CrewContext) => ctx.emit('ok', { a: 1, b: undefined }), /emit "ok": payload\.b is undefined/],
    ['a __proto__ key in a payload', (ctx: CrewContext) => ctx.emit('ok', JSON.parse('{"x":{"__proto__":{"polluted":1}}}')), /emit "ok": payload\.x\.__proto__ is a prototype key/],
    ['a NaN in a payload', (ctx: CrewContext) => ctx.emit('ok', [1, Number.NaN]), /emit "ok": payload\[1\] is NaN/],
    ['a payload nested too deep', (ctx: CrewContext) => ctx.emit('ok', nested(65)), /emit "ok": payload(\.a){64} is nested deeper than 64 levels \(payload_max_depth\)/],
    [
      'more actions than max_actions_per_call',
      (ctx: CrewContext) => {
        for (let i = 0; i <= 10_000; i++) ctx.emit('ok');
      },
      /emit "ok": the call has already emitted 10000 actions \(max_actions_per_call\)/,
    ],
    ['a context value nested too deep', (ctx: CrewContext) => ctx.context.set('k', nested(2000)), /context.set\("k"\): value(\.a){64} is nested deeper than 64 levels/],
  ])('reports %s as a handler error', async (_what, act, message) => {
    @Crew({ id: 'emitter' })
    class Emitter {
      @OnEvent('tick')
      on(_e: Event, ctx: CrewContext): void {
        act(ctx);
      }
    }
    const r = await (await createTestingApp({ crews: [Emitter], config: { payload_max_bytes: 1024 } })).run([at(0)]);
    expect(r.errorsOf('handler_error')[0]!.payload.message).toMatch(message);
  });

  it('hands every crew the same immutable event: a crew that tries to change it fails alone', async () => {
    const seen: unknown[] = [];
    @Crew({ id: 'tamperer' })
    class Tamperer {
      @OnEvent('tick')
      on(event: Event<{ team: string }>): void {
        (event as { kind: string }).kind = 'goal';
      }
      @OnEvent('note')
      onNote(event: Event<{ team: string }>): void {
        (event.payload as { team: string }).team = 'away';
      }
    }
    @Crew({ id: 'reader' })
    class Reader {
      @OnEvent('*')
      on(event: Event, ctx: CrewContext): void {
        seen.push(structuredClone(event));
        ctx.emit('seen', { kind: event.kind, stream: event.stream_id });
      }
    }
    const r = await (await createTestingApp({ crews: [Tamperer, Reader] })).run([at(0), at(10, 'note', { team: 'home' })]);
    expect(r.errorsOf('handler_error').map((e) => e.payload.message)).toEqual([
      expect.stringMatching(/tamperer.on threw: Cannot assign to read only property 'kind'/),
      expect.stringMatching(/tamperer.onNote threw: Cannot assign to read only property 'team'/),
    ]);
    expect(seen).toEqual([expect.objectContaining({ kind: 'tick', stream_id: 'm1' }), expect.objectContaining({ kind: 'note', payload: { team: 'home' } })]);
    expect(r.actions.map((a) => a.payload)).toEqual([
      { kind: 'tick', stream: 'm1' },
      { kind: 'note', stream: 'm1' },
    ]);
  });

  it("drops output made through a ctx kept past its call, and reports it once as the crew's handler_error", async () => {
    let kept: CrewContext | undefined;
    @Crew({ id: 'leaky' })
    class Leaky {
      @OnEvent('tick')
      on(_e: Event, ctx: CrewContext): void {
        if (kept === undefined) kept = ctx;
        else {
          kept.emit('late_action');
          kept.context.set('late', 1);
          ctx.emit('ok');
        }
      }
    }
    const r = await (await createTestingApp({ crews: [Leaky] })).run([at(0), at(100)]);
    expect(r.actions.map((a) => a.kind)).toEqual(['ok']);
    expect(r.context('m1')).toEqual({});
    expect(r.errors.map((e) => [e.payload.reason, e.payload.crew, e.payload.message])).toEqual([
      ['handler_error', 'leaky', expect.stringMatching(/leaky: emit after the handler finished was ignored; await your work inside the handler/)],
    ]);
    expect(() => kept!.emit('after_the_run')).not.toThrow();
  });
});

describe('dependency injection', () => {
  @injectable()
  class ScoringRules {
    pointsFor(kind: string): number {
      return kind === 'try' ? 5 : 1;
    }
  }
  const BONUS = Symbol('bonus');

  @Crew({ id: 'scorer' })
  class Scorer {
    constructor(
      private readonly rules: ScoringRules,
      @inject(BONUS) private readonly bonus: number,
    ) {}

    @OnEvent('*')
    on(event: Event, ctx: CrewContext): void {
      ctx.emit('points', { points: this.rules.pointsFor(event.kind) + this.bonus });
    }
  }

  it('resolves constructor parameters through the container', async () => {
    const r = await (await createTestingApp({ crews: [Scorer], providers: [{ token: BONUS, useValue: 0 }] })).run([at(0, 'try')]);
    expect(r.actions[0]!.payload).toEqual({ points: 5 });
  });

  it('lets a test replace a dependency with a fake', async () => {
    const fake = { pointsFor: () => 100 };
    const t = await createTestingApp({
      crews: [Scorer],
      providers: [
        { token: ScoringRules, useValue: fake },
        { token: BONUS, useValue: 1 },
      ],
    });
    expect((await t.run([at(0, 'try')])).actions[0]!.payload).toEqual({ points: 101 });
  });

  it('names the crew and the missing dependency when one cannot be resolved', async () => {
    const t = await createTestingApp({ crews: [Scorer] });
    await expect(t.run([])).rejects.toThrow(
      'cannot construct crew "scorer" (Scorer): Scorer(#1 Symbol(bonus)): no provider gives Symbol(bonus). To fix: register Symbol(bonus) in providers: { token, useValue | useClass | useFactory }; nothing has run.',
    );
  });

  it("says a crew's constructor threw, with what it threw, instead of blaming a missing dependency", async () => {
    @Crew({ id: 'fragile' })
    class Fragile {
      constructor() {
        throw new Error('no API key');
      }
      @OnEvent('tick') on(): void {}
    }
    const t = await createTestingApp({ crews: [Fragile] });
    const failure = t.run([]);
    await expect(failure).rejects.toThrow('cannot construct crew "fragile" (Fragile): its constructor threw: no API key. Fix that constructor; nothing has run.');
  });

  it('explains missing decorator metadata instead of failing obscurely', async () => {
    class Untyped {
      constructor(readonly rules: ScoringRules) {}
      on(): void {}
    }
    OnEvent('tick')(Untyped.prototype, 'on', Object.getOwnPropertyDescriptor(Untyped.prototype, 'on')!);
    Crew({ id: 'untyped' })(Untyped);
    Reflect.deleteMetadata('design:paramtypes', Untyped);
    // Discovery reads the metadata, so the app refuses the crew as it is created.
    await expect(createTestingApp({ crews: [Untyped] })).rejects.toThrow(/Untyped takes 1 constructor parameter\(s\) but has no design:paramtypes metadata.*tsx and esbuild do not emit it/);
  });
});

describe('dependencies (DESIGN §4)', () => {
  @Crew({ id: 'score_tracker', maxErrors: 1 })
  class ScoreTracker {
    @OnEvent('goal')
    on(event: Event<{ team?: string }>, ctx: CrewContext): void {
      if (!event.payload.team) throw new Error('goal without team');
      const score = ctx.context.get<Record<string, number>>('score') ?? {};
      ctx.context.set('score', { ...score, [event.payload.team]: (score[event.payload.team] ?? 0) + 1 });
    }
  }

  @Crew({ id: 'commentator' })
  @DependsOn({ crew: 'score_tracker', offset: -1 })
  class Commentator {
    @OnEvent('*')
    on(_e: Event, ctx: CrewContext): void {
      ctx.emit('line', { score: ctx.context.get('score') ?? null });
    }
  }

  it('a crew depending on {crew, offset: -1} reads the score its dependency merged in the previous slice', async () => {
    const r = await (await createTestingApp({ crews: [Commentator, ScoreTracker] })).run([at(0, 'goal', { team: 'home' }), at(600, 'tick')]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ score: null }, { score: { home: 1 } }]);
  });

  it('when the dependency is disabled, the dependent skips with a dependency_unmet record naming why', async () => {
    const r = await (await createTestingApp({ crews: [Commentator, ScoreTracker] })).run([at(0, 'goal', {}), at(600, 'tick'), at(700, 'tick')]);
    expect(r.actions.map((a) => a.kind)).toEqual(['line']);
    expect(r.errorsOf('dependency_unmet')).toEqual([
      {
        ts: at(600).ts,
        kind: '__error',
        stream_id: 'm1',
        payload: expect.objectContaining({
          reason: 'dependency_unmet',
          crew: 'commentator',
          slice: 1,
          source: 'input[1]',
          message: 'crew commentator skipped slice 1 (2 events not processed): crew score_tracker has not finished slice 0',
        }),
      },
    ]);
  });

  it("waitPolicy 'timeout:<ms>' runs with what is met instead of skipping", async () => {
    @Crew({ id: 'patient', waitPolicy: 'timeout:50' })
    @DependsOn({ crew: 'score_tracker', offset: -1 })
    class Patient {
      @OnEvent('tick')
      on(_e: Event, ctx: CrewContext): void {
        ctx.emit('went_ahead', { slice: ctx.slice });
      }
    }
    const r = await (await createTestingApp({ crews: [Patient, ScoreTracker] })).run([at(0, 'goal', {}), at(600, 'tick')]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ slice: 1 }]);
    expect(r.errorsOf('dependency_unmet')).toEqual([]);
  });

  it('rejects bad knob values at start', async () => {
    @Crew({ id: 'knobs', waitPolicy: 'some', sliceStride: 0, backlogPolicy: 'lifo' } as never)
    class Knobs {
      @OnEvent('tick') on(): void {}
    }
    await expect(createTestingApp({ crews: [Knobs] })).rejects.toThrow(/waitPolicy: must be 'all', 'any', 'none' or 'timeout:<ms>'.*sliceStride: must be > 0.*backlogPolicy: .*"fifo"/s);
  });
});
