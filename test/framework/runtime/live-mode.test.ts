import { inject } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { CLOCK, Crew, DECISION_JOURNAL, EVENT_SOURCE, OnEvent, type Clock, type CrewContext, type Event, type EventSource, type InputBatch } from '../../../src/index.js';
import { ArrayEventSource, createTestingApp, ManualClock, MemoryDecisionJournal } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind = 'tick') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: 'm1', payload: { at: ms } });

@Crew({ id: 'recorder' })
class Recorder {
  constructor(@inject(CLOCK) private readonly clock: Clock) {}

  @OnEvent('*')
  on(event: Event<{ at: number }>, ctx: CrewContext): void {
    ctx.emit('seen', { at: event.payload.at, wall: this.clock.now(), slice: ctx.slice });
  }
}

/** A source that delivers batches with pauses of clock time between them, as a live feed does. */
class TrickleSource implements EventSource {
  constructor(
    private readonly clock: Clock,
    private readonly steps: ReadonlyArray<{ waitMs: number; events: unknown[] }>,
  ) {}
  async *batches(): AsyncGenerator<InputBatch> {
    for (const { waitMs, events } of this.steps) {
      await this.clock.sleep(waitMs);
      yield* new ArrayEventSource(events).batches();
    }
  }
  async close(): Promise<void> {}
}

/** The straggler steps: s1 at 0, then 1.2 s of wall time later s1 at 100 (slice 0 ended 700 ms of wall time ago). */
const STRAGGLER = [
  { waitMs: 0, events: [at(0)] },
  { waitMs: 1200, events: [at(100)] },
];

/** A live run of the straggler steps, its wall-clock decisions recorded in `journal` if given. */
async function liveWithStraggler(journal?: MemoryDecisionJournal) {
  // Live input is stamped about now: a clock far behind it would refuse it (max_future_ms).
  const clock = new ManualClock(T0);
  const app = await createTestingApp({
    crews: [Recorder],
    config: { mode: 'live' },
    providers: [{ token: CLOCK, useValue: clock }, { token: EVENT_SOURCE, useValue: new TrickleSource(clock, STRAGGLER) }, ...(journal ? [{ token: DECISION_JOURNAL, useValue: journal }] : [])],
  });
  return app.run([]);
}

describe('live mode (DESIGN §4)', () => {
  it('wall-clock progress closes the slices of an idle stream: a straggler is then late', async () => {
    const live = await liveWithStraggler();
    expect(live.errorsOf('late_event')).toHaveLength(1);

    const batchClock = new ManualClock();
    const batch = await (
      await createTestingApp({
        crews: [Recorder],
        providers: [
          { token: CLOCK, useValue: batchClock },
          { token: EVENT_SOURCE, useValue: new TrickleSource(batchClock, STRAGGLER) },
        ],
      })
    ).run([]);
    expect(batch.errors).toEqual([]);
    expect(batch.actions).toHaveLength(2);
  });

  it('--pace replays recorded input at its speed times the factor', async () => {
    const clock = new ManualClock(1_000_000);
    const t = await createTestingApp({ crews: [Recorder], config: { pace: 10 }, providers: [{ token: CLOCK, useValue: clock }] });
    const r = await t.run([at(0), at(5000), at(5000), at(20_000)]);
    expect(r.actions.map((a) => (a.payload as { wall: number }).wall - 1_000_000)).toEqual([0, 500, 500, 2000]);
  });

  it('a paced replay in a process starved of CPU closes the slices the batch run closes: ticks go no further than the input has', async () => {
    // s1@1000 then s1@800, 200 ms out of order within lateness 300: on time in a batch run.
    const events = [at(0), at(1000), at(800)];
    const config = { slice_ms: 500, lateness_ms: 300 };
    const batch = await (await createTestingApp({ crews: [Recorder], config })).run(events);
    expect(batch.errors).toEqual([]);
    // The process stalls 2 s (its clock jumps) while the replay waits to release s1@1000: the
    // first tick after sees 2.1 s gone, which would close slices 0-2 and make both events late.
    const manual = new ManualClock(T0);
    let stall = 0;
    const starved: Clock = {
      now: () => manual.now() + stall,
      sleep: (ms, signal) => {
        if (manual.now() >= T0 + 100) stall = 2000;
        return manual.sleep(ms, signal);
      },
    };
    const paced = await (await createTestingApp({ crews: [Recorder], config: { ...config, pace: 1 }, providers: [{ token: CLOCK, useValue: starved }] })).run(events);
    expect(stall).toBe(2000);
    expect(paced.errors).toEqual([]);
    expect(paced.actions.map((a) => (a.payload as { slice: number }).slice)).toEqual(batch.actions.map((a) => (a.payload as { slice: number }).slice));
  });

  it("a replay with the live run's journal closes the slices its ticks closed: the straggler is late again, without the clock", async () => {
    const journal = new MemoryDecisionJournal();
    const live = await liveWithStraggler(journal);
    expect(live.errorsOf('late_event')).toHaveLength(1);
    expect([...journal.recorded.keys()].filter((key) => key.startsWith('tick:'))).not.toEqual([]);
    const replay = await (await createTestingApp({ crews: [Recorder], providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })).run([at(0), at(100)]);
    expect(replay.errorsOf('late_event')).toHaveLength(1);
  });

  it('eager_dispatch false holds every call until its slice closes, with the same output per crew', async () => {
    const events = [at(0), at(100), at(600)];
    const eager = await (await createTestingApp({ crews: [Recorder] })).run(events);
    const held = await (await createTestingApp({ crews: [Recorder], config: { eager_dispatch: false } })).run(events);
    const strip = (actions: readonly { payload: unknown }[]) => actions.map((a) => ({ ...(a.payload as object), wall: 0 }));
    expect(strip(held.actions)).toEqual(strip(eager.actions));
  });

  it('rejects a pace that is not a positive number', async () => {
    await expect(createTestingApp({ crews: [Recorder], config: { pace: 0 } })).rejects.toThrow(/pace: must be > 0/);
  });
});
