import { inject } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { CLOCK, Crew, EVENT_SOURCE, OnEvent, type Clock, type CrewContext, type Event, type EventSource, type InputBatch } from '../../../src/index.js';
import { ArrayEventSource, createTestingApp, ManualClock } from '../../../src/testing.js';

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

describe('live mode (DESIGN §4)', () => {
  it('wall-clock progress closes the slices of an idle stream: a straggler is then late', async () => {
    // Live input is stamped about now: a clock far behind it would refuse it (max_future_ms).
    const clock = new ManualClock(T0);
    const steps = [
      { waitMs: 0, events: [at(0)] },
      { waitMs: 1200, events: [at(100)] }, // slice 0 ended 700 ms of wall time ago
    ];
    const live = await (
      await createTestingApp({
        crews: [Recorder],
        config: { mode: 'live' },
        providers: [
          { token: CLOCK, useValue: clock },
          { token: EVENT_SOURCE, useValue: new TrickleSource(clock, steps) },
        ],
      })
    ).run([]);
    expect(live.errorsOf('late_event')).toHaveLength(1);

    const batchClock = new ManualClock();
    const batch = await (
      await createTestingApp({
        crews: [Recorder],
        providers: [
          { token: CLOCK, useValue: batchClock },
          { token: EVENT_SOURCE, useValue: new TrickleSource(batchClock, steps) },
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
