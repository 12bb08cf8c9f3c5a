import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Crew, OnEvent, type CrewContext, type CrewSliceDone, type CrewWork, type Event } from '../../../src/index.js';
import { JsonlDecisionJournal, MemoryContextBackend } from '../../../src/embedded.js';
import { CollectingActionSink, CollectingErrorSink } from '../../../src/testing.js';
import { buildCrewGraph } from '../../../src/framework/discovery/crew-graph.js';
import { CrewWorker, type CrewProgress, type ReceivedWork } from '../../../src/framework/distributed/crew-worker.js';
import { instantiateCrews } from '../../../src/framework/runtime/instantiate-crews.js';
import { systemClock } from '../../../src/framework/system-clock.js';

@Crew({ id: 'counter', maxErrors: 2 })
class Counter {
  @OnEvent('*')
  on(event: Event<{ v: number }>, ctx: CrewContext): void {
    if (event.payload.v < 0) throw new Error('negative');
    const total = (ctx.context.get<number>('total') ?? 0) + event.payload.v;
    ctx.context.set('total', total);
    ctx.emit('counted', { total });
  }
}

const call = (slice: number, position: number, v: number): CrewWork => ({
  type: 'call',
  streamId: 's1',
  slice,
  crew: 'counter',
  event: { ts: new Date(Date.UTC(2024, 0, 1, 0, 0, position)).toISOString(), kind: 'tick', stream_id: 's1', payload: { v } },
  position,
  source: `input[${position}]`,
});
const close = (slice: number): CrewWork => ({ type: 'close', streamId: 's1', slice, crew: 'counter' });

/** Slice 0: three calls then close; slice 1: one call then close. */
const WORK: ReceivedWork[] = [call(0, 1, 1), call(0, 2, 2), call(0, 3, 3), close(0), call(1, 4, 4), close(1)].map((work, i) => ({ work, seq: i + 1 }));

/** A worker for the counter crew, as a runner process would make it, sharing sinks and store with its predecessors. */
function worker(shared: { backend: MemoryContextBackend; actions: CollectingActionSink; errors: CollectingErrorSink; reports: CrewSliceDone[]; saved: CrewProgress[] }, progress?: CrewProgress) {
  const [crew] = instantiateCrews(buildCrewGraph([Counter]), rootContainer.createChildContainer());
  return new CrewWorker({
    crew: crew!,
    streamId: 's1',
    backend: shared.backend,
    actions: shared.actions,
    errors: shared.errors,
    limits: { payloadMaxBytes: 65_536, payloadMaxDepth: 64, maxActionsPerCall: 10_000, contextMaxBytes: 4096, maxInFlight: 10_000 },
    journal: new JsonlDecisionJournal(),
    clock: systemClock,
    progress,
    // This work carries no base: each slice starts from the backend's commit.
    contextBefore: () => Promise.reject(new Error('no call here carries a base')),
    report: async (done) => {
      shared.reports.push(done);
      // The scheduler merges and commits a slice once its crews reported it.
      await shared.backend.commit('s1', done.slice, Object.fromEntries(done.writes.filter((w) => w.length === 2)));
    },
    saveProgress: async (saved) => void shared.saved.push(saved),
  });
}

const fresh = () => ({ backend: new MemoryContextBackend(), actions: new CollectingActionSink(), errors: new CollectingErrorSink(), reports: [] as CrewSliceDone[], saved: [] as CrewProgress[] });
const totals = (shared: ReturnType<typeof fresh>) => shared.actions.actions.map((action) => (action.payload as { total: number }).total);

describe('CrewWorker', () => {
  it('runs a slice from S(n-1), publishes each call, and reports its writes on close', async () => {
    const shared = fresh();
    await worker(shared).handle(WORK);
    expect(totals(shared)).toEqual([1, 3, 6, 10]);
    expect(shared.reports.map(({ slice, writes, disabled }) => ({ slice, writes, disabled }))).toEqual([
      { slice: 0, writes: [['total', 6]], disabled: false },
      { slice: 1, writes: [['total', 10]], disabled: false },
    ]);
  });

  it('a successor started from the saved progress re-runs the open slice but publishes nothing twice', async () => {
    const uninterrupted = fresh();
    await worker(uninterrupted).handle(WORK);

    const shared = fresh();
    const first = worker(shared);
    await first.handle(WORK.slice(0, 1));
    await first.handle(WORK.slice(1, 2));
    await first.settled();
    // Killed here: two calls of slice 0 published, slice 0 not reported.
    const progress = shared.saved.at(-1)!;
    expect(progress.published).toEqual({ slice: 0, calls: 2 });
    const successor = worker(shared, progress);
    await successor.handle(WORK.filter(({ seq }) => seq >= successor.resumeFrom));

    expect(totals(shared)).toEqual(totals(uninterrupted));
    expect(shared.actions.actions.map((action) => action.ts)).toEqual(uninterrupted.actions.actions.map((action) => action.ts));
    expect(shared.reports).toEqual(uninterrupted.reports);
  });

  it('skips work it already reported and work sent twice', async () => {
    const shared = fresh();
    const w = worker(shared);
    await w.handle([...WORK.slice(0, 2), WORK[1]!, ...WORK.slice(2, 4), WORK[0]!, WORK[3]!]);
    expect(totals(shared)).toEqual([1, 3, 6]);
    expect(shared.reports).toHaveLength(1);
  });

  it("keeps the crew's error streak across a restart: the second failure disables it", async () => {
    const shared = fresh();
    const failing: ReceivedWork[] = [call(0, 1, -1), close(0), call(1, 2, -2), close(1)].map((work, i) => ({ work, seq: i + 1 }));
    const first = worker(shared);
    await first.handle(failing.slice(0, 2));
    await first.settled();
    const successor = worker(shared, shared.saved.at(-1));
    await successor.handle(failing.filter(({ seq }) => seq >= successor.resumeFrom));
    expect(shared.errors.errors.map((error) => error.payload.reason)).toEqual(['handler_error', 'handler_error', 'disabled']);
    expect(shared.reports.map((report) => report.disabled)).toEqual([false, true]);
  });
});
