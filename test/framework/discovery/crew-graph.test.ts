import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Crew } from '../../../src/framework/decorators/crew.js';
import { DependsOn } from '../../../src/framework/decorators/depends-on.js';
import { OnEvent } from '../../../src/framework/decorators/on-event.js';
import { UseInterceptors } from '../../../src/framework/decorators/use-interceptors.js';
import { buildCrewGraph, lagWarnings } from '../../../src/framework/discovery/crew-graph.js';
import { CrewDefinitionError, DependencyCycleError } from '../../../src/framework/errors.js';
import type { DependencyInput } from '../../../src/framework/model/dependency.js';

/** A crew class with one handler, for graphs. */
function crew(id: string, ...deps: DependencyInput[]) {
  @Crew({ id })
  @DependsOn(...deps)
  class Defined {
    @OnEvent('tick')
    on(): void {}
  }
  Object.defineProperty(Defined, 'name', { value: `Crew_${id}` });
  return Defined;
}

const ids = (classes: Parameters<typeof buildCrewGraph>[0]) => buildCrewGraph(classes).crews.map((c) => c.id);

describe('buildCrewGraph', () => {
  it('reads handlers, triggers, payload schemas and dependencies', () => {
    const Payload = z.object({ n: z.number() });
    @Crew({ id: 'reader', maxErrors: 5 })
    @DependsOn({ crew: 'other' }, { event: 'kick_off' })
    class Reader {
      @OnEvent('a', { payload: Payload }) one(): void {}
      @OnEvent(['b', 'c', 'b']) two(): void {}
      @OnEvent('*') three(): void {}
    }
    const [definition] = buildCrewGraph([Reader, crew('other')]).crews.filter((c) => c.id === 'reader');
    expect(definition).toMatchObject({
      id: 'reader',
      className: 'Reader',
      maxErrors: 5,
      handlers: [
        { method: 'one', trigger: { any: false, kinds: ['a'] }, payload: Payload },
        { method: 'two', trigger: { any: false, kinds: ['b', 'c'] } },
        { method: 'three', trigger: { any: true } },
      ],
      dependencies: [
        { type: 'crew', crew: 'other', offset: -1 },
        { type: 'event', event: 'kick_off', offset: 0 },
      ],
    });
  });

  it('orders crews by offset-0 dependencies, then by id', () => {
    expect(ids([crew('c'), crew('b'), crew('a')])).toEqual(['a', 'b', 'c']);
    expect(ids([crew('a', { crew: 'z', offset: 0 }), crew('z'), crew('m')])).toEqual(['m', 'z', 'a']);
    // A negative offset reads an earlier slice: it does not order crews inside one.
    expect(ids([crew('a', { crew: 'z', offset: -1 }), crew('z')])).toEqual(['a', 'z']);
  });

  it('rejects duplicate crew ids, naming the classes', () => {
    expect(() => buildCrewGraph([crew('dup'), crew('dup')])).toThrow(/crew id "dup" is used by more than one class \(Crew_dup, Crew_dup\)/);
  });

  it.each(['1starts-with-digit', 'has.dot', 'has space', '', 'x'.repeat(65)])('rejects the crew id %j', (id) => {
    expect(() => buildCrewGraph([crew(id)])).toThrow(CrewDefinitionError);
    expect(() => buildCrewGraph([crew(id)])).toThrow(/@Crew options of Crew_.*: id: must match/);
  });

  it('rejects unknown @Crew options and bad maxErrors', () => {
    @Crew({ id: 'x', maxErrors: 0, sliceStrid: 2 } as never)
    class Bad {
      @OnEvent('a') on(): void {}
    }
    expect(() => buildCrewGraph([Bad])).toThrow(/maxErrors: must be > 0.*Unrecognized key.*sliceStrid/s);
  });

  it('rejects a crew without handlers', () => {
    @Crew({ id: 'idle' })
    class Idle {}
    expect(() => buildCrewGraph([Idle])).toThrow(/crew "idle" \(Idle\) has no @OnEvent handler/);
  });

  it('rejects a class that is not a crew', () => {
    class Plain {}
    expect(() => buildCrewGraph([Plain])).toThrow(/Plain is not decorated with @Crew/);
  });

  it.each([
    [[], /names no kind/],
    [['*', 'a'], /'\*' already means every kind/],
    ['__error', /invalid kind\(s\) "__error"/],
    [['ok', 'not ok'], /invalid kind\(s\) "not ok"/],
  ])('rejects @OnEvent(%j)', (kinds, message) => {
    @Crew({ id: 'k' })
    class K {
      @OnEvent(kinds as never) on(): void {}
    }
    expect(() => buildCrewGraph([K])).toThrow(new RegExp(`@OnEvent on k\\.on: .*${message.source}`));
  });

  it('rejects a dependency on an unknown crew, listing the known ones', () => {
    expect(() => buildCrewGraph([crew('a', { crew: 'ghost' }), crew('b')])).toThrow(/crew "a" depends on unknown crew "ghost" \(known crews: a, b\)/);
  });

  it.each([
    [{ crew: 'b', offset: 1 }, /offset: must be 0 or negative/],
    [{ crew: 'b', offset: -0.5 }, /offset: must be an integer/],
    [{ event: '__hb' }, /reserved/],
    [{ crew: 'b', event: 'x' }, /must be \{ crew/],
  ])('rejects the dependency %j', (dep, message) => {
    expect(() => buildCrewGraph([crew('a', dep as DependencyInput), crew('b')])).toThrow(message);
  });

  it('rejects a cycle of offset-0 dependencies, printing it', () => {
    const classes = [crew('a', { crew: 'b', offset: 0 }), crew('b', { crew: 'c', offset: 0 }), crew('c', { crew: 'a', offset: 0 }), crew('d')];
    expect(() => buildCrewGraph(classes)).toThrow(DependencyCycleError);
    expect(() => buildCrewGraph(classes)).toThrow('offset-0 crew dependencies form a cycle: a -> b -> c -> a');
    try {
      buildCrewGraph(classes);
    } catch (error) {
      expect((error as DependencyCycleError).cycle).toEqual(['a', 'b', 'c', 'a']);
    }
  });

  it('rejects a crew depending on itself in the same slice, but not on its previous slice', () => {
    expect(() => buildCrewGraph([crew('self', { crew: 'self', offset: 0 })])).toThrow('cycle: self -> self');
    expect(ids([crew('self', { crew: 'self', offset: -1 })])).toEqual(['self']);
  });

  it('reports every problem at once', () => {
    @Crew({ id: 'idle' })
    class Idle {}
    expect(() => buildCrewGraph([Idle, crew('dup'), crew('dup'), crew('a', { crew: 'ghost' })])).toThrow(/invalid crews \(3 problems\)/);
  });

  it('inherits handlers from a parent crew class', () => {
    class Base {
      @OnEvent('a') onA(): void {}
    }
    @Crew({ id: 'child' })
    class Child extends Base {
      @OnEvent('b') onB(): void {}
    }
    expect(buildCrewGraph([Child]).crews[0]!.handlers.map((h) => h.method)).toEqual(['onA', 'onB']);
  });
});

describe('lagWarnings (DESIGN §8)', () => {
  it('warns about each dependency that makes a crew wait for a lagging crew, and about no other', () => {
    @Crew({ id: 'model', lag: 2 })
    class Model {
      @OnEvent('tick') on(): void {}
    }
    const graph = buildCrewGraph([
      Model,
      crew('same_slice', { crew: 'model', offset: 0 }),
      crew('inside', { crew: 'model', offset: -2 }),
      crew('outside', { crew: 'model', offset: -3 }),
      crew('plain', { crew: 'inside' }),
    ]);
    expect(lagWarnings(graph)).toEqual([
      expect.stringMatching(/^crew inside depends on model at offset -2, inside model's lag of 2: .* declare offset -3 or lower/),
      expect.stringMatching(/^crew same_slice depends on model at offset 0, inside model's lag of 2/),
    ]);
  });

  it('refuses a lag that is negative or not an integer, and a concurrency below 1, naming the knob', () => {
    @Crew({ id: 'bad', lag: -1, concurrency: 0 })
    class Bad {
      @OnEvent('tick') on(): void {}
    }
    expect(() => buildCrewGraph([Bad])).toThrow(/lag: must be >= 0[\s\S]*concurrency: must be > 0/);
  });
});

describe('decorators applied as standard (TC39) ones, as tsc compiles them without experimentalDecorators', () => {
  it('are refused at once, each naming itself and the tsconfig options to set', () => {
    const type = class {};
    const standard = (kind: string) => ({ kind, name: 'x', addInitializer: () => {} });
    const cases: Array<[string, () => unknown]> = [
      ['@Crew', () => (Crew({ id: 'a' }) as unknown as (value: unknown, context: unknown) => unknown)(type, standard('class'))],
      ['@DependsOn', () => (DependsOn({ crew: 'b' }) as unknown as (value: unknown, context: unknown) => unknown)(type, standard('class'))],
      ['@OnEvent', () => (OnEvent('goal') as unknown as (value: unknown, context: unknown) => unknown)(() => {}, standard('method'))],
      ['@UseInterceptors', () => (UseInterceptors() as unknown as (value: unknown, context: unknown) => unknown)(type, standard('class'))],
    ];
    for (const [name, apply] of cases) {
      expect(apply, name).toThrow(CrewDefinitionError);
      expect(apply, name).toThrow(new RegExp(`^${name} was applied as a standard \\(TC39\\) decorator: .*Set "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig\\.json`));
    }
  });
});
