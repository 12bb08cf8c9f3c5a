import { describe, expect, it } from 'vitest';
import {
  ACTION_SINK,
  CONTEXT_BACKEND,
  createLiveCrewApp,
  type CommitProgress,
  type ContextSnapshot,
  Crew,
  DependsOn,
  ERROR_SINK,
  EVENT_SOURCE,
  OnEvent,
  type CrewContext,
  type Event,
} from '../../../src/index.js';
import { MemoryContextBackend } from '../../../src/embedded.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, createTestingApp } from '../../../src/testing.js';
import { PushSource } from '../fixtures/push-source.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, stream = 'm1', payload: Record<string, unknown> = {}, kind = 'tick') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts calls in flight, overall and per stream, and keeps the highest counts seen. */
class InFlight {
  now = 0;
  most = 0;
  readonly perStream = new Map<string, number>();
  mostPerStream = 0;

  async around<T>(stream: string, work: () => Promise<T>): Promise<T> {
    this.now++;
    this.most = Math.max(this.most, this.now);
    const mine = (this.perStream.get(stream) ?? 0) + 1;
    this.perStream.set(stream, mine);
    this.mostPerStream = Math.max(this.mostPerStream, mine);
    try {
      return await work();
    } finally {
      this.now--;
      this.perStream.set(stream, this.perStream.get(stream)! - 1);
    }
  }
}

/** A promise a test resolves when it wants. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('lanes (DESIGN §8)', () => {
  it("runs the calls of different streams concurrently, and one stream's calls one at a time in arrival order", async () => {
    const flight = new InFlight();
    const started: string[] = [];
    @Crew({ id: 'slow' })
    class Slow {
      @OnEvent('tick')
      async on(event: Event<{ n: number }>, ctx: CrewContext): Promise<void> {
        started.push(`${event.stream_id}#${event.payload.n}`);
        await flight.around(event.stream_id, () => sleep(30));
        ctx.emit('done', { n: event.payload.n });
      }
    }
    const events = ['a', 'b', 'c'].flatMap((stream) => [at(0, stream, { n: 1 }), at(10, stream, { n: 2 })]);
    const r = await (await createTestingApp({ crews: [Slow] })).run(events);
    expect(flight.most).toBe(3);
    expect(flight.mostPerStream).toBe(1);
    for (const stream of ['a', 'b', 'c']) expect(started.filter((s) => s.startsWith(stream))).toEqual([`${stream}#1`, `${stream}#2`]);
    // Batch output is in input order, whatever order the calls ended in.
    expect(r.actions.map((a) => `${a.stream_id}#${(a.payload as { n: number }).n}`)).toEqual(events.map((e) => `${e.stream_id}#${e.payload.n}`));
  });

  it("in live mode a synchronous crew's action goes out while a slow crew's call on the same event is still running", async () => {
    const release = gate();
    @Crew({ id: 'quick' })
    class Quick {
      @OnEvent('tick')
      on(event: Event, ctx: CrewContext): void {
        ctx.emit('quick', { ts: event.ts });
      }
    }
    @Crew({ id: 'model', lag: 2 })
    class Model {
      @OnEvent('tick')
      async on(_event: Event, ctx: CrewContext): Promise<void> {
        await release.opened;
        ctx.emit('answer', {});
      }
    }
    const source = new PushSource();
    const actions = new CollectingActionSink();
    const app = await createLiveCrewApp({
      crews: [Quick, Model],
      configFile: false,
      env: {},
      config: { mode: 'live', log_level: 'silent', max_future_ms: null },
      providers: [
        { token: EVENT_SOURCE, useValue: source },
        { token: ACTION_SINK, useValue: actions },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      ],
    });
    const running = app.run();
    const now = Date.now();
    source.push(at(now - T0, 'm1'), at(now - T0, 'm2'));
    await until(() => actions.actions.filter((a) => a.kind === 'quick').length === 2, 'the quick actions of both streams');
    expect(actions.actions.map((a) => a.kind)).toEqual(['quick', 'quick']);
    release.open();
    await until(() => actions.actions.length === 4, 'the slow answers');
    await app.stop();
    await running;
  });

  it("caps a crew's calls in flight across streams at its concurrency", async () => {
    const flight = new InFlight();
    @Crew({ id: 'capped', concurrency: 2 })
    class Capped {
      @OnEvent('tick')
      async on(event: Event, ctx: CrewContext): Promise<void> {
        await flight.around(event.stream_id, () => sleep(15));
        ctx.emit('done', {});
      }
    }
    const events = ['a', 'b', 'c', 'd', 'e'].flatMap((stream) => [at(0, stream), at(5, stream)]);
    const r = await (await createTestingApp({ crews: [Capped] })).run(events);
    expect(r.actions).toHaveLength(10);
    expect(flight.most).toBe(2);
  });

  it('pauses input at max_in_flight calls queued or running, and takes it up again as they end', async () => {
    const release = gate();
    const accepted: number[] = [];
    @Crew({ id: 'held' })
    class Held {
      @OnEvent('tick')
      async on(event: Event<{ n: number }>, ctx: CrewContext): Promise<void> {
        await release.opened;
        ctx.emit('done', { n: event.payload.n });
      }
    }
    const events = Array.from({ length: 20 }, (_, n) => at(n, `s${n % 5}`, { n }));
    const t = await createLiveCrewApp({
      crews: [Held],
      configFile: false,
      env: {},
      config: { max_in_flight: 4, log_level: 'silent' },
      observer: { eventAccepted: (event) => void accepted.push((event.payload as { n: number }).n) },
      providers: [
        { token: EVENT_SOURCE, useValue: new ArrayEventSource(events) },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      ],
    });
    const running = t.run();
    await until(() => accepted.length >= 4, 'four events taken');
    await sleep(30);
    expect(accepted).toHaveLength(4);
    release.open();
    const summary = await running;
    expect(summary.events).toBe(20);
    expect(summary.actions).toBe(20);
  });

  it('disables a crew on the stream where it failed maxErrors times in a row; its other streams go on', async () => {
    @Crew({ id: 'picky', maxErrors: 2 })
    class Picky {
      @OnEvent('tick')
      async on(event: Event, ctx: CrewContext): Promise<void> {
        await sleep(1);
        if (event.stream_id === 'bad') throw new Error('no');
        ctx.emit('ok', {});
      }
    }
    const events = [0, 1, 2, 3].flatMap((n) => [at(n, 'bad'), at(n, 'good')]);
    const r = await (await createTestingApp({ crews: [Picky] })).run(events);
    expect(r.actions.filter((a) => a.stream_id === 'good')).toHaveLength(4);
    expect(r.errorsOf('handler_error')).toHaveLength(2);
    expect(r.errorsOf('disabled')).toEqual([expect.objectContaining({ stream_id: 'bad', payload: expect.objectContaining({ crew: 'picky', slice: 0 }) })]);
  });
});

describe('lag (DESIGN §8)', () => {
  @Crew({ id: 'scribe', lag: 1 })
  class Scribe {
    @OnEvent('tick')
    async on(event: Event<{ n: number }>, ctx: CrewContext): Promise<void> {
      // It reads its own writes not merged yet.
      const before = ctx.context.get<number[]>('notes') ?? [];
      await sleep(5);
      ctx.context.set('notes', [...before, event.payload.n]);
    }
  }

  @Crew({ id: 'reader' })
  class Reader {
    @OnEvent('tick')
    on(event: Event<{ n: number }>, ctx: CrewContext): void {
      ctx.emit('saw', { n: event.payload.n, slice: ctx.slice, notes: ctx.context.get('notes') ?? null });
    }
  }

  it("merges a lagging crew's writes of slice n at the close of n + lag; it reads its own writes before that", async () => {
    const r = await (await createTestingApp({ crews: [Scribe, Reader] })).run([
      at(0, 'm1', { n: 0 }),
      at(100, 'm1', { n: 1 }),
      at(600, 'm1', { n: 2 }),
      at(1100, 'm1', { n: 3 }),
      at(1600, 'm1', { n: 4 }),
    ]);
    expect(r.actions.map((a) => a.payload)).toEqual([
      { n: 0, slice: 0, notes: null },
      { n: 1, slice: 0, notes: null },
      // Slice 0's notes merge at the close of slice 1: S(1) is the first snapshot holding them.
      { n: 2, slice: 1, notes: null },
      { n: 3, slice: 2, notes: [0, 1] },
      { n: 4, slice: 3, notes: [0, 1, 2] },
    ]);
    expect(r.context('m1')).toEqual({ notes: [0, 1, 2, 3, 4] });
  });

  it("commits a lagging crew's writes not merged yet with the snapshot: a restart from that commit loses none", async () => {
    const commits: Array<{ slice: number; snapshot: ContextSnapshot; progress: CommitProgress | undefined }> = [];
    class RecordingBackend extends MemoryContextBackend {
      override commit(streamId: string, slice: number, snapshot: ContextSnapshot, progress?: CommitProgress): void {
        commits.push({ slice, snapshot, progress });
        super.commit(streamId, slice, snapshot, progress);
      }
    }
    const events = [0, 600, 1200, 1800, 2400].map((ms, n) => at(ms, 'm1', { n }));
    const whole = await (await createTestingApp({ crews: [Scribe, Reader], providers: [{ token: CONTEXT_BACKEND, useValue: new RecordingBackend() }] })).run(events);
    // S(1) leaves the scribe's write of slice 1 to merge at slice 2: it travels with the commit.
    const crash = commits.find((commit) => commit.slice === 1)!;
    expect(crash.progress?.lagging).toEqual([{ crew: 'scribe', slice: 2, writes: [['notes', [0, 1]]] }]);
    const restarted = new MemoryContextBackend();
    restarted.commit('m1', crash.slice, crash.snapshot, crash.progress);
    const rest = events.slice(crash.progress!.position + 1);
    const resumed = await (await createTestingApp({ crews: [Scribe, Reader], providers: [{ token: CONTEXT_BACKEND, useValue: restarted }] })).run(rest);
    expect(resumed.context('m1')).toEqual(whole.context('m1'));
    expect(resumed.actions).toEqual(whole.actions.slice(whole.actions.length - rest.length));
  });

  it('makes a dependent at an offset inside the lag wait for the lagging crew, and decide on its status', async () => {
    @Crew({ id: 'fragile', lag: 1, maxErrors: 1 })
    class Fragile {
      @OnEvent('tick')
      async on(event: Event<{ fail?: boolean }>): Promise<void> {
        await sleep(5);
        if (event.payload.fail) throw new Error('broken');
      }
    }
    @Crew({ id: 'follower' })
    @DependsOn({ crew: 'fragile', offset: -1 })
    class Follower {
      @OnEvent('tick')
      on(_event: Event, ctx: CrewContext): void {
        ctx.emit('followed', { slice: ctx.slice });
      }
    }
    const r = await (await createTestingApp({ crews: [Fragile, Follower] })).run([at(0), at(600, 'm1', { fail: true }), at(1100), at(1600)]);
    // Slice 1's call disabled fragile: follower runs slices 0 and 1, and skips 2 and 3.
    expect(r.actions.map((a) => a.payload)).toEqual([{ slice: 0 }, { slice: 1 }]);
    expect(r.errorsOf('dependency_unmet').map((e) => e.payload.slice)).toEqual([2, 3]);
  });
});

describe('ctx.signal (DESIGN §8)', () => {
  it("aborts at the call's timeoutMs, so the work it passed the signal to ends with it", async () => {
    let seen: unknown;
    @Crew({ id: 'waiter', timeoutMs: 20 })
    class Waiter {
      @OnEvent('tick')
      async on(_event: Event, ctx: CrewContext): Promise<void> {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        seen = ctx.signal.reason;
      }
    }
    const r = await (await createTestingApp({ crews: [Waiter] })).run([at(0)]);
    expect(r.errorsOf('timeout')).toHaveLength(1);
    await until(() => seen !== undefined, 'the abort');
    expect((seen as DOMException).name).toBe('TimeoutError');
  });

  it('aborts when the app stops, and the aborted call is recorded as failed', async () => {
    @Crew({ id: 'listener' })
    class Listener {
      @OnEvent('tick')
      async on(_event: Event, ctx: CrewContext): Promise<void> {
        await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      }
    }
    const source = new PushSource();
    const errors = new CollectingErrorSink();
    const app = await createLiveCrewApp({
      crews: [Listener],
      configFile: false,
      env: {},
      config: { mode: 'live', log_level: 'silent', max_future_ms: null },
      providers: [
        { token: EVENT_SOURCE, useValue: source },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: errors },
      ],
    });
    const running = app.run();
    source.push(at(Date.now() - T0));
    await sleep(20);
    await app.stop();
    const summary = await running;
    expect(summary.abandoned).toBe(0);
    expect(errors.errors.map((e) => e.payload.message)).toEqual(['listener.on was ended by the app stopping (its ctx.signal aborted); its actions and writes were discarded']);
  });
});
