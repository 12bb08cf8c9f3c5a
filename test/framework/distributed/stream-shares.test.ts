import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairShare, preferred, shareStep } from '../../../src/framework/distributed/stream-shares.js';

/** Workers taking turns, each doing its step as it sees the pool; a claim of a stream someone took meanwhile fails. */
function settle(workers: readonly string[], streams: readonly string[], start: ReadonlyMap<string, string> = new Map(), rounds = 200) {
  const owner = new Map(start);
  for (let round = 0; round < rounds; round++) {
    let moved = false;
    for (const worker of workers) {
      const owned = streams.filter((s) => owner.get(s) === worker);
      const unowned = streams.filter((s) => !owner.has(s));
      const others = workers.filter((w) => w !== worker).map((w) => [...owner.values()].filter((o) => o === w).length);
      const step = shareStep({ worker, owned, unowned, active: streams.length, workers: workers.length, others });
      for (const stream of step.claim.filter((s) => !owner.has(s))) owner.set(stream, worker);
      for (const stream of step.handOver) owner.delete(stream);
      moved ||= step.claim.length > 0 || step.handOver.length > 0;
    }
    if (!moved) return { owner, rounds: round };
  }
  return { owner, rounds };
}

const counts = (owner: ReadonlyMap<string, string>, workers: readonly string[]) => workers.map((w) => [...owner.values()].filter((o) => o === w).length);
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('stream shares (DESIGN §12)', () => {
  it('gives each live worker ceil(active / workers), and nothing when no stream is active', () => {
    expect(fairShare(300, 2)).toBe(150);
    expect(fairShare(301, 2)).toBe(151);
    expect(fairShare(3, 5)).toBe(1);
    expect(fairShare(0, 3)).toBe(0);
    // A worker that sees no live worker (its own heartbeat not stored yet) counts itself.
    expect(fairShare(4, 0)).toBe(4);
  });

  it('orders streams differently per worker, the same every time', () => {
    const streams = names('m', 20);
    expect(preferred('a', streams)).toEqual(preferred('a', [...streams].reverse()));
    expect(preferred('a', streams)).not.toEqual(preferred('b', streams));
    expect([...preferred('a', streams)].sort()).toEqual([...streams].sort());
  });

  it('a joining worker gets its share from the others within a few steps, and nobody takes more than theirs', () => {
    const streams = names('m', 200);
    const { owner } = settle(['w0', 'w1'], streams);
    expect(counts(owner, ['w0', 'w1'])).toEqual([100, 100]);
    // The newcomer looks first and claims nothing, all being owned; each other hands its excess over once nothing is unowned; it claims.
    const joined = settle(['w2', 'w0', 'w1'], streams, owner);
    expect(joined.owner.size).toBe(200);
    expect(counts(joined.owner, ['w0', 'w1', 'w2'])).toEqual([67, 67, 66]);
    expect(joined.rounds).toBeLessThanOrEqual(3);
  });

  it('a worker over its share because streams finished elsewhere keeps what it runs until another is short', () => {
    const view = { worker: 'w0', owned: names('s', 15), unowned: [], active: 20, workers: 2 };
    // Share 10: w1 finished 10 of its 15 and owns 5, short of its share: w0 hands over 5.
    expect(shareStep({ ...view, others: [5] }).handOver).toHaveLength(5);
    // w1 at its share (the streams it lacks are still being published): nothing moves.
    expect(shareStep({ ...view, others: [10] }).handOver).toEqual([]);
    // Unowned streams wait for w1 to claim them: nothing moves either.
    expect(shareStep({ ...view, unowned: ['x'], others: [5] }).handOver).toEqual([]);
  });

  it('any pool settles with every stream owned once and every worker within its share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 60 }), fc.array(fc.nat(5), { maxLength: 60 }), (workerCount, streamCount, initial) => {
        const workers = names('w', workerCount);
        const streams = names('s', streamCount);
        // A pool after any history: some streams owned by workers that may since have left.
        const start = new Map<string, string>();
        initial.forEach((w, i) => {
          if (i < streamCount && w < workerCount) start.set(streams[i]!, workers[w]!);
        });
        const { owner, rounds } = settle(workers, streams, start);
        expect(rounds).toBeLessThan(200);
        expect(owner.size).toBe(streamCount);
        const share = fairShare(streamCount, workerCount);
        for (const n of counts(owner, workers)) expect(n).toBeLessThanOrEqual(share);
      }),
    );
  });
});
