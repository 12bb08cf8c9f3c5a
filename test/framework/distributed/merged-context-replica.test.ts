import { describe, expect, it } from 'vitest';
import { CrewReports } from '../../../src/framework/distributed/crew-reports.js';
import { MergedContextReplica } from '../../../src/framework/distributed/merged-context-replica.js';
import type { CrewSliceDone, SliceBase } from '../../../src/framework/runner-protocol.js';
import { systemClock } from '../../../src/framework/system-clock.js';

const CREWS = [
  { id: 'score', lag: 0 },
  { id: 'stats', lag: 0 },
  { id: 'recap', lag: 1 },
];
const done = (crew: string, slice: number, writes: CrewSliceDone['writes']): CrewSliceDone => ({ type: 'done', streamId: 's1', slice, crew, writes, disabled: false });

function replica(contextMaxBytes = 10_000) {
  const reports = new CrewReports();
  const reads: Array<{ from: number; again: boolean }> = [];
  const merged = new MergedContextReplica({ streamId: 's1', crews: CREWS, contextMaxBytes, reports, readReports: (from, again) => void reads.push({ from, again }) });
  return { reports, reads, merged };
}

/** Resolves with the promise's value, or 'pending' if it has not settled after the tasks queued so far. */
async function settledNow<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 5))]);
}

describe('MergedContextReplica', () => {
  it('merges the slices closed since the base from their reports: crews in run order, the later wins, deletions delete', async () => {
    const { merged } = replica();
    const base: SliceBase = {
      after: 3,
      snapshot: { score: 1, old: true },
      merges: [
        {
          slice: 4,
          reports: [
            ['score', 4],
            ['stats', 4],
          ],
        },
        {
          slice: 6,
          reports: [
            ['stats', 6],
            ['recap', 5],
          ],
        },
      ],
      reportsFrom: 10,
    };
    const before = merged.before(base);
    merged.receive(done('stats', 4, [['score', 'stats wins'], ['old']]));
    merged.receive(done('score', 4, [['score', 2]]));
    merged.receive(done('recap', 5, [['recap', 'slice 5']]));
    expect(await settledNow(before)).toBe('pending');
    merged.receive(done('stats', 6, [['shots', 3]]));
    expect(await before).toStrictEqual({ score: 'stats wins', recap: 'slice 5', shots: 3 });
  });

  it("answers a crew whose base needs nothing at once, while another crew's base waits for that crew's report", async () => {
    const { merged } = replica();
    // stats starts slice 2 after slice 0 closed; score has not even started slice 0 yet.
    const stats = merged.before({ after: Number.NEGATIVE_INFINITY, snapshot: {}, merges: [{ slice: 0, reports: [['score', 0]] }], reportsFrom: 1 });
    const score = merged.before({ after: Number.NEGATIVE_INFINITY, snapshot: {}, merges: [], reportsFrom: 1 });
    expect(await settledNow(score)).toStrictEqual({});
    merged.receive(done('score', 0, [['score', 1]]));
    expect(await stats).toStrictEqual({ score: 1 });
  });

  it('cuts a snapshot over context_max_bytes exactly as the scheduler does', async () => {
    const { merged } = replica(30);
    const before = merged.before({
      after: 0,
      snapshot: { a: 1 },
      merges: [
        {
          slice: 1,
          reports: [
            ['score', 1],
            ['stats', 1],
          ],
        },
      ],
      reportsFrom: 1,
    });
    merged.receive(done('score', 1, [['b', 'x'.repeat(10)]]));
    merged.receive(done('stats', 1, [['c', 'y'.repeat(10)]]));
    // The last merged write is undone first: stats' `c`.
    expect(await before).toStrictEqual({ a: 1, b: 'x'.repeat(10) });
  });

  it('tells which reports a merge still waits for, every interval, until they come: a runner hosting them may be down', async () => {
    const reports = new CrewReports();
    const stalls: Array<{ slice: number; missing: readonly (readonly [string, number])[] }> = [];
    const merged = new MergedContextReplica({
      streamId: 's1',
      crews: CREWS,
      contextMaxBytes: 10_000,
      reports,
      readReports: () => undefined,
      stalled: { clock: systemClock, afterMs: 20, stalled: (slice, missing) => void stalls.push({ slice, missing }) },
    });
    const before = merged.before({
      after: 4,
      snapshot: {},
      merges: [
        {
          slice: 5,
          reports: [
            ['score', 5],
            ['recap', 4],
          ],
        },
      ],
      reportsFrom: 1,
    });
    merged.receive(done('recap', 4, [['recap', 4]]));
    while (stalls.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stalls[0]).toEqual({ slice: 5, missing: [['score', 5]] });
    merged.receive(done('score', 5, [['score', 5]]));
    expect(await before).toStrictEqual({ recap: 4, score: 5 });
    const told = stalls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(stalls.length).toBe(told);
  });

  it('keeps no backlog of reports while its crews have no work: past its bound it drops them and stops reading until the next base', async () => {
    const reports = new CrewReports();
    const reads: Array<{ from: number; again: boolean } | 'stop'> = [];
    const merged = new MergedContextReplica({
      streamId: 's1',
      crews: CREWS,
      contextMaxBytes: 10_000,
      reports,
      readReports: (from, again) => void reads.push({ from, again }),
      stopReading: () => void reads.push('stop'),
    });
    // 64 slices per crew, times the most any crew lags plus one: 384 reports.
    for (let slice = 0; slice < 384; slice++) merged.receive(done('score', slice, [['n', slice]]), slice + 1);
    expect([reports.size, reads]).toEqual([384, []]);
    merged.receive(done('score', 384, [['n', 384]]), 385);
    expect([reports.size, reads]).toEqual([0, ['stop']]);
    // The next base reads from its own sequence, as at a start.
    const before = merged.before({ after: 500, snapshot: {}, merges: [{ slice: 501, reports: [['score', 501]] }], reportsFrom: 900 });
    expect(reads.at(-1)).toEqual({ from: 900, again: false });
    merged.receive(done('score', 501, [['n', 501]]), 901);
    expect(await before).toStrictEqual({ n: 501 });
  });

  it('keeps what a merge waits for, whatever slice a report names: a report far ahead, forged or not, drops nothing', async () => {
    const { merged } = replica();
    const before = merged.before({
      after: 1,
      snapshot: {},
      merges: [
        {
          slice: 2,
          reports: [
            ['score', 2],
            ['stats', 2],
          ],
        },
      ],
      reportsFrom: 1,
    });
    merged.receive(done('score', 2, [['score', 2]]), 5);
    merged.receive(done('stats', 1_000_000, [['forged', true]]), 6);
    for (let i = 0; i < 1000; i++) merged.receive(done('stats', 2_000_000 + i, []), 7 + i);
    merged.receive(done('stats', 2, [['stats', 2]]), 2000);
    expect(await before).toStrictEqual({ score: 2, stats: 2 });
  });

  it('reads reports from the base on, and again from an older base when it dropped what a crew far behind needs', async () => {
    const { reports, reads, merged } = replica();
    merged.receive(done('score', 1, [['n', 1]]));
    await merged.before({ after: 0, snapshot: {}, merges: [{ slice: 1, reports: [['score', 1]] }], reportsFrom: 7 });
    await merged.before({ after: 200, snapshot: { n: 200 }, merges: [], reportsFrom: 900 });
    expect(reads).toEqual([
      { from: 7, again: false },
      { from: 900, again: false },
    ]);
    // The report of slice 1 was dropped with the new base; a crew still at slice 2 reads it again.
    expect(reports.get('s1', 1, 'score')).toBeUndefined();
    const behind = merged.before({ after: 0, snapshot: {}, merges: [{ slice: 1, reports: [['score', 1]] }], reportsFrom: 7 });
    expect(reads.at(-1)).toEqual({ from: 7, again: true });
    merged.receive(done('score', 1, [['n', 1]]));
    expect(await behind).toStrictEqual({ n: 1 });
  });
});
