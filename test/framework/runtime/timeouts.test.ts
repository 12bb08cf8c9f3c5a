import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CLOCK, Crew, DECISION_JOURNAL, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { JsonlDecisionJournal } from '../../../src/embedded.js';
import { createTestingApp, ManualClock } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, payload: Record<string, unknown> = {}) => ({ ts: new Date(T0 + ms).toISOString(), kind: 'tick', stream_id: 'm1', payload });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const journalPath = () => join(mkdtempSync(join(tmpdir(), 'live-crew-journal-')), 'journal.jsonl');

const calls: number[] = [];

@Crew({ id: 'slowpoke', timeoutMs: 30, maxErrors: 5 })
class Slowpoke {
  @OnEvent('tick')
  async on(event: Event<{ delay?: number; n: number }>, ctx: CrewContext): Promise<void> {
    calls.push(event.payload.n);
    ctx.context.set(`n${event.payload.n}`, true);
    await sleep(event.payload.delay ?? 0);
    ctx.emit('done', { n: event.payload.n });
  }
}

describe('timeoutMs (DESIGN §4)', () => {
  it('abandons a call over its limit: its actions and writes are discarded and a timeout error counts', async () => {
    const recordTo = journalPath();
    const journal = new JsonlDecisionJournal({ recordTo });
    const t = await createTestingApp({ crews: [Slowpoke], providers: [{ token: DECISION_JOURNAL, useValue: journal }] });
    const r = await t.run([at(0, { n: 1 }), at(10, { n: 2, delay: 200 }), at(20, { n: 3 })]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(r.context('m1')).toEqual({ n1: true, n3: true });
    expect(r.errors).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ reason: 'timeout', crew: 'slowpoke', slice: 0, message: 'slowpoke.on took longer than timeoutMs 30; its actions and writes were discarded' }),
      }),
    ]);
    expect(readFileSync(recordTo, 'utf8')).toBe('{"decision":"timeout:slowpoke.on:m1:0:1"}\n');
  });

  it('times a synchronous call by the clock, and discards it when over', async () => {
    const clock = new ManualClock();
    @Crew({ id: 'busy', timeoutMs: 100 })
    class Busy {
      @OnEvent('tick')
      on(event: Event<{ cost: number }>, ctx: CrewContext): void {
        clock.advance(event.payload.cost);
        ctx.emit('done', { cost: event.payload.cost });
      }
    }
    const t = await createTestingApp({ crews: [Busy], providers: [{ token: CLOCK, useValue: clock }] });
    const r = await t.run([at(0, { cost: 50 }), at(1, { cost: 150 })]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ cost: 50 }]);
    expect(r.errorsOf('timeout')).toHaveLength(1);
  });

  it("a ManualClock runs an asynchronous call's timeoutMs out: a minute's limit passes at once, and a call sleeping on the clock within it is not timed out", async () => {
    const clock = new ManualClock(T0);
    @Crew({ id: 'patient', timeoutMs: 60_000 })
    class Patient {
      @OnEvent('tick')
      async on(event: Event<{ waitMs?: number; n: number }>, ctx: CrewContext): Promise<void> {
        // A call awaiting what never comes, or the clock for less than its limit.
        await (event.payload.waitMs === undefined ? new Promise(() => {}) : clock.sleep(event.payload.waitMs));
        ctx.emit('done', { n: event.payload.n });
      }
    }
    const t = await createTestingApp({ crews: [Patient], providers: [{ token: CLOCK, useValue: clock }] });
    const r = await t.run([at(0, { n: 1, waitMs: 59_000 }), at(1, { n: 2 }), at(2, { n: 3, waitMs: 61_000 })]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ n: 1 }]);
    expect(r.errorsOf('timeout').map((e) => e.payload.message)).toEqual([
      'patient.on took longer than timeoutMs 60000; its actions and writes were discarded',
      'patient.on took longer than timeoutMs 60000; its actions and writes were discarded',
    ]);
  });

  it("vitest's fake timers drive timeoutMs on the system clock (faking setTimeout and Date, not setImmediate)", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      @Crew({ id: 'stalled', timeoutMs: 30_000 })
      class Stalled {
        @OnEvent('tick')
        async on(_event: Event, ctx: CrewContext): Promise<void> {
          await new Promise(() => {});
          ctx.emit('never', {});
        }
      }
      const running = (await createTestingApp({ crews: [Stalled] })).run([at(0)]);
      await vi.advanceTimersByTimeAsync(30_000);
      const r = await running;
      expect(r.actions).toEqual([]);
      expect(r.errorsOf('timeout').map((e) => e.payload.crew)).toEqual(['stalled']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a replay with the journal repeats the timeouts exactly, without running those calls or timing the others', async () => {
    const recordTo = journalPath();
    const events = [at(0, { n: 1 }), at(10, { n: 2, delay: 200 }), at(20, { n: 3 })];
    const recording = await (await createTestingApp({ crews: [Slowpoke], providers: [{ token: DECISION_JOURNAL, useValue: new JsonlDecisionJournal({ recordTo }) }] })).run(events);

    calls.length = 0;
    // On replay the third call is slow too, but the journal says only the second timed out.
    const slower = [events[0]!, events[1]!, at(20, { n: 3, delay: 60 })];
    const replay = await (await createTestingApp({ crews: [Slowpoke], providers: [{ token: DECISION_JOURNAL, useValue: new JsonlDecisionJournal({ replayFrom: recordTo }) }] })).run(slower);
    expect(calls).toEqual([1, 3]);
    expect(replay.actions).toEqual(recording.actions);
    expect(replay.errors).toEqual(recording.errors);
    expect(replay.context('m1')).toEqual(recording.context('m1'));
  });

  it('refuses a journal that is not a journal, naming file and line', async () => {
    const replayFrom = journalPath();
    writeFileSync(replayFrom, '{"decision":"timeout:a.b:m1:0:1"}\n{"oops":1}\n');
    expect(() => new JsonlDecisionJournal({ replayFrom })).toThrow(new RegExp(`${replayFrom}:2: not a journal line`));
    writeFileSync(replayFrom, 'not json\n');
    expect(() => new JsonlDecisionJournal({ replayFrom })).toThrow(new RegExp(`${replayFrom}:1: not a journal line`));
    expect(() => new JsonlDecisionJournal({ replayFrom: '/nonexistent/j.jsonl' })).toThrow(/cannot read the journal to replay, \/nonexistent\/j.jsonl: ENOENT/);
  });

  it('rejects a timeoutMs that is not a positive integer at start', async () => {
    @Crew({ id: 'bad', timeoutMs: -1 })
    class Bad {
      @OnEvent('tick') on(): void {}
    }
    await expect(createTestingApp({ crews: [Bad] })).rejects.toThrow(/timeoutMs: must be > 0/);
  });

  it('rejects a timeoutMs or wait timeout past what a timer accepts (it would fire after 1 ms)', async () => {
    @Crew({ id: 'huge', timeoutMs: 3_000_000_000 })
    class Huge {
      @OnEvent('tick') on(): void {}
    }
    await expect(createTestingApp({ crews: [Huge] })).rejects.toThrow(/timeoutMs: must be at most 2147483647 ms/);
    @Crew({ id: 'patient', waitPolicy: 'timeout:3000000000' })
    class Patient {
      @OnEvent('tick') on(): void {}
    }
    await expect(createTestingApp({ crews: [Patient] })).rejects.toThrow(/waitPolicy: must be .*'timeout:<ms>' \(ms an integer from 1 to 2147483647\)/);
  });
});
