import { describe, expect, it } from 'vitest';
import { Crew, OnEvent, UseInterceptors, type CrewContext, type Event, type Interceptor } from '../../../src/index.js';
import { createTestingApp } from '../../../src/testing.js';
import { describeThrown } from '../../../src/framework/describe-thrown.js';

/** A Proxy whose every trap throws: even asking whether it is an Error throws. */
function trapEverything(): object {
  const trap = () => {
    throw new Error('trapped');
  };
  return new Proxy(
    {},
    {
      get: trap,
      has: trap,
      ownKeys: trap,
      getPrototypeOf: trap,
      getOwnPropertyDescriptor: trap,
      defineProperty: trap,
      set: trap,
      deleteProperty: trap,
      apply: trap,
      construct: trap,
      isExtensible: trap,
      preventExtensions: trap,
      setPrototypeOf: trap,
    },
  );
}

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const unprintable = {
  toString() {
    throw new Error('no toString');
  },
  [Symbol.toPrimitive]() {
    throw new Error('no primitive');
  },
  get message(): string {
    throw new Error('no message');
  },
};

/** Every value a handler can throw that has broken a failure path before. */
const HOSTILE: ReadonlyArray<readonly [string, () => unknown]> = [
  ['a Proxy trapping every operation', trapEverything],
  ['a revoked Proxy', revoked],
  ['an object whose toString, toPrimitive and message throw', () => unprintable],
  [
    'an object without a prototype whose message throws',
    () =>
      Object.create(null, {
        message: {
          get: () => {
            throw new Error('no');
          },
        },
      }),
  ],
];

const at = (i: number, kind: string) => ({ ts: `2024-05-01T12:00:0${i}.000Z`, kind, stream_id: 'm1', payload: {} });

describe('the failure path never touches a thrown value unsafely', () => {
  it.each(HOSTILE)('describes %s without throwing', (_name, make) => {
    expect(typeof describeThrown(make())).toBe('string');
  });

  it.each(HOSTILE)('a handler that throws %s, sync or async, fails only that call, as its crew error', async (_name, make) => {
    @Crew({ id: 'thrower', maxErrors: 10 })
    class Thrower {
      @OnEvent('sync')
      sync(): void {
        throw make();
      }
      @OnEvent('async')
      async later(): Promise<void> {
        await Promise.resolve();
        throw make();
      }
      @OnEvent('ok')
      ok(_event: Event, ctx: CrewContext): void {
        ctx.emit('fine', {});
      }
    }
    const r = await (await createTestingApp({ crews: [Thrower] })).run([at(1, 'sync'), at(2, 'async'), at(3, 'ok')]);
    expect(r.actions.map((a) => a.kind)).toEqual(['fine']);
    expect(r.errors.map((e) => [e.payload.reason, e.payload.crew])).toEqual([
      ['handler_error', 'thrower'],
      ['handler_error', 'thrower'],
    ]);
    for (const error of r.errors) expect(error.payload.message).toMatch(/^thrower\.(sync|later) threw: /);
  });

  it.each(HOSTILE)('an interceptor that throws %s fails the call it wraps, nothing else', async (_name, make) => {
    class Hostile implements Interceptor {
      intercept(call: { event: Event }, next: () => unknown): unknown {
        if (call.event.kind === 'bad') throw make();
        return next();
      }
    }
    @Crew({ id: 'wrapped', maxErrors: 10 })
    @UseInterceptors(Hostile)
    class Wrapped {
      @OnEvent(['bad', 'ok'])
      on(event: Event, ctx: CrewContext): void {
        ctx.emit('seen', { kind: event.kind });
      }
    }
    const r = await (await createTestingApp({ crews: [Wrapped] })).run([at(1, 'bad'), at(2, 'ok')]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ kind: 'ok' }]);
    expect(r.errors.map((e) => e.payload.reason)).toEqual(['handler_error']);
  });

  it.each(HOSTILE)('a crew constructor or onStart that throws %s is refused at start with an error naming it', async (_name, make) => {
    @Crew({ id: 'unmade' })
    class Unmade {
      constructor() {
        throw make();
      }
      @OnEvent('x')
      on(): void {}
    }
    await expect(createTestingApp({ crews: [Unmade] }).then((app) => app.run([at(1, 'x')]))).rejects.toThrow(/crew "unmade"|unmade/);
    @Crew({ id: 'unstarted' })
    class Unstarted {
      onStart(): void {
        throw make();
      }
      @OnEvent('x')
      on(): void {}
    }
    await expect((await createTestingApp({ crews: [Unstarted] })).run([at(1, 'x')])).rejects.toThrow(/crew "unstarted" \(Unstarted\): onStart\(\) threw: \((a thrown Object|an object)[a-z ]*\)/);
  });
});
