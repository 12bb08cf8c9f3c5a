import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkContextKey, frozenJsonCopy } from '../../../src/framework/model/frozen-json.js';
import { HandlerOutputError } from '../../../src/framework/errors.js';

describe('frozenJsonCopy', () => {
  it('returns an equal, deeply frozen copy sharing nothing with the input', () => {
    const input = { team: { name: 'home', scorers: ['a', 'b'] }, score: 2, live: true, note: null };
    const copy = frozenJsonCopy(input, 'context.set', 'k') as typeof input;
    expect(copy).toEqual(input);
    expect(copy).not.toBe(input);
    expect(Object.isFrozen(copy) && Object.isFrozen(copy.team) && Object.isFrozen(copy.team.scorers)).toBe(true);
    input.team.scorers.push('c');
    expect(copy.team.scorers).toEqual(['a', 'b']);
  });

  it('copies any JSON value to an equal value, refusing exactly those with a prototype key', () => {
    const hasPrototypeKey = (value: unknown): boolean =>
      typeof value === 'object' && value !== null && Object.entries(value).some(([key, inner]) => ['__proto__', 'constructor', 'prototype'].includes(key) || hasPrototypeKey(inner));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        if (hasPrototypeKey(value)) expect(() => frozenJsonCopy(value, 'context.set', 'k')).toThrow(/is a prototype key/);
        else expect(frozenJsonCopy(value, 'context.set', 'k')).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    [() => 1, /value is a function/],
    [Symbol('s'), /value is a symbol/],
    [10n, /value is a bigint/],
    [Number.NaN, /value is NaN/],
    [{ a: [1, Infinity] }, /value\.a\[1\] is Infinity \(a number out of range\)/],
    [{ a: undefined }, /value\.a is undefined/],
    [{ when: new Date(0) }, /value\.when is a Date object/],
    [new Map(), /value is a Map object/],
    [JSON.parse('{"__proto__": {"polluted": true}}'), /value\.__proto__ is a prototype key/],
    [{ nested: { constructor: 1 } }, /value\.nested\.constructor is a prototype key/],
  ])('refuses %s, naming the path', (value, message) => {
    expect(() => frozenJsonCopy(value, 'context.set', 'score')).toThrow(HandlerOutputError);
    expect(() => frozenJsonCopy(value, 'context.set', 'score')).toThrow(new RegExp(`context\\.set\\("score"\\): ${message.source}; context values must be JSON`));
  });

  it('refuses cycles but accepts the same object twice side by side', () => {
    const shared = { x: 1 };
    expect(frozenJsonCopy({ a: shared, b: shared }, 'context.set', 'k')).toEqual({ a: { x: 1 }, b: { x: 1 } });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = { back: cyclic };
    expect(() => frozenJsonCopy(cyclic, 'context.set', 'k')).toThrow(/value\.self\.back is a reference to itself \(a cycle\)/);
  });
});

describe('checkContextKey', () => {
  it.each([[''], ['x'.repeat(257)], [42]])('refuses the key %j', (key) => {
    expect(() => checkContextKey(key)).toThrow(/context key .* must be a non-empty string of at most 256 characters/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the prototype key %s', (key) => {
    expect(() => checkContextKey(key)).toThrow(`context key "${key}" is not allowed`);
  });
});
