import { describe, expect, it } from 'vitest';
import { DELETED, StreamContext } from '../../../src/framework/context/stream-context.js';

describe('StreamContext', () => {
  it("merges a slice: each crew's last write in arrival order, later crews in run order winning", () => {
    const context = new StreamContext({ kept: 1 }, 2, 4096);
    context.writesOf(0, 1).record('k', 'crew1');
    context.writesOf(0, 0).record('k', 'crew0');
    context.writesOf(0, 0).record('j', 'first');
    context.writesOf(0, 0).record('j', 'second');
    const merged = context.close(0)!;
    expect(merged.snapshot).toEqual({ kept: 1, k: 'crew1', j: 'second' });
    expect(Object.isFrozen(merged.snapshot)).toBe(true);
    expect(context.close(0)).toBeUndefined();
  });

  it('freezes all through what it takes in (a backend snapshot, a base to rebase on, writes read in), so no crew can change what another reads', () => {
    const loaded = JSON.parse('{"score":{"home":1,"scorers":["Kane"]}}') as Record<string, { home: number; scorers: string[] }>;
    const context = new StreamContext(loaded, 1, 4096);
    expect(Object.isFrozen(context.snapshot['score'])).toBe(true);
    expect(Object.isFrozen((context.snapshot['score'] as { scorers: string[] }).scorers)).toBe(true);
    const base = JSON.parse('{"table":[{"team":"ENG"}]}') as Record<string, unknown>;
    context.rebase(base, 0);
    expect(Object.isFrozen((context.snapshot['table'] as object[])[0])).toBe(true);
    context.writesOf(1, 0).recordWire(JSON.parse('[["shots",{"home":[2]}],["gone"]]'));
    const read = context.writesOf(1, 0).latest('shots') as { home: number[] };
    expect(Object.isFrozen(read.home)).toBe(true);
    expect(() => {
      read.home.push(3);
    }).toThrow(TypeError);
  });

  it('applies deletions', () => {
    const context = new StreamContext({ a: 1, b: 2 }, 1, 4096);
    const writes = context.writesOf(3, 0);
    writes.record('a', 1);
    writes.record('b', DELETED);
    writes.record('c', 3);
    expect(context.close(3)).toMatchObject({ snapshot: { a: 1, c: 3 }, dropped: [] });
  });

  it("keeps the snapshot within maxBytes by undoing this slice's writes, last merged first", () => {
    const context = new StreamContext({ old: 'x'.repeat(20) }, 2, 80);
    context.writesOf(0, 0).record('a', 'a'.repeat(20));
    context.writesOf(0, 1).record('b', 'b'.repeat(20));
    context.writesOf(0, 1).record('c', 'c'.repeat(20));
    const merged = context.close(0)!;
    expect(merged.dropped).toEqual(['c', 'b']);
    expect(merged.snapshot).toEqual({ old: 'x'.repeat(20), a: 'a'.repeat(20) });
    expect(Buffer.byteLength(JSON.stringify(merged.snapshot))).toBeLessThanOrEqual(80);
    expect(merged.bytes).toBeGreaterThan(80);
  });

  it('drops keys by name when even the previous snapshot is over the limit', () => {
    const context = new StreamContext({ a: 'a'.repeat(40), z: 'z'.repeat(40) }, 1, 60);
    context.writesOf(0, 0).record('n', 1);
    expect(context.close(0)!).toMatchObject({ dropped: ['n', 'z'], snapshot: { a: 'a'.repeat(40) } });
  });
});
