import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOCK, Crew, DECISION_JOURNAL, DependsOn, OnEvent, type CrewContext, type Event, type ProviderRegistration } from '../../src/index.js';
import { JsonlDecisionJournal } from '../../src/embedded.js';
import { createTestingApp, ManualClock, type TestRunResult } from '../../src/testing.js';

// Determinism (DESIGN §4): output is a pure function of the events in arrival order, the config
// and the journal of wall-time decisions.

const T0 = Date.parse('2024-05-01T12:00:00Z');
type Payload = { v: number; slow?: boolean };
type Input = { ts: string; kind: string; stream_id: string; payload: Payload };

/**
 * Per-call delays for property (e): while set, every handler ends after the delay it gives for
 * (crew, event), as an async crew would; unset, every handler is synchronous.
 */
let delayOf: ((crew: string, event: Event<Payload>) => number) | undefined;

/** Runs a handler's body at once, or after the call's delay. */
function delayed(crew: string, event: Event<Payload>, body: () => void): void | Promise<void> {
  if (delayOf === undefined) return body();
  return new Promise((resolve) => setTimeout(resolve, delayOf!(crew, event))).then(body);
}

@Crew({ id: 'tally' })
class Tally {
  @OnEvent('*')
  on(event: Event<Payload>, ctx: CrewContext): void | Promise<void> {
    return delayed('tally', event, () => this.#count(event, ctx));
  }

  #count(event: Event<Payload>, ctx: CrewContext): void {
    const key = `count_${event.kind}`;
    const count = (ctx.context.get<number>(key) ?? 0) + 1;
    ctx.context.set(key, count);
    ctx.context.set('max', Math.max(ctx.context.get<number>('max') ?? 0, event.payload.v));
    ctx.emit('tallied', { kind: event.kind, count });
  }
}

@Crew({ id: 'commentator' })
@DependsOn({ crew: 'tally', offset: -1 })
class Commentator {
  @OnEvent(['a', 'b'])
  on(event: Event<Payload>, ctx: CrewContext): void | Promise<void> {
    return delayed('commentator', event, () => ctx.emit('comment', { a: ctx.context.get('count_a') ?? 0, max: ctx.context.get('max') ?? null }));
  }
}

@Crew({ id: 'closer' })
@DependsOn({ crew: 'tally', offset: 0 }, { event: 'c', offset: -1 })
class Closer {
  @OnEvent('*')
  on(event: Event<Payload>, ctx: CrewContext): void | Promise<void> {
    return delayed('closer', event, () => ctx.emit('closing', { slice: ctx.slice, v: event.payload.v }));
  }
}

@Crew({ id: 'sampler', sliceStride: 2, backlogPolicy: 'latest' })
class Sampler {
  @OnEvent(['a', 'c'])
  on(event: Event<Payload>, ctx: CrewContext): void {
    ctx.emit('sampled', { slice: ctx.slice, v: event.payload.v });
  }
}

/** Lags a slice: its writes of slice n merge at the close of n+1; it reads its own before that. */
@Crew({ id: 'chronicler', lag: 1, maxErrors: 1000 })
class Chronicler {
  @OnEvent(['b', 'c'])
  on(event: Event<Payload>, ctx: CrewContext): void | Promise<void> {
    return delayed('chronicler', event, () => {
      if (event.payload.v % 17 === 0) throw new Error(`v ${event.payload.v}`);
      const seen = (ctx.context.get<number>('chronicled') ?? 0) + 1;
      ctx.context.set('chronicled', seen);
      ctx.emit('chronicle', { seen, a: ctx.context.get('count_a') ?? 0 });
    });
  }
}

/** Waits for the lagging crew's slice before its own (offset -1 is inside its lag). */
@Crew({ id: 'reviewer' })
@DependsOn({ crew: 'chronicler', offset: -1 })
class Reviewer {
  @OnEvent('c')
  on(event: Event<Payload>, ctx: CrewContext): void | Promise<void> {
    return delayed('reviewer', event, () => ctx.emit('review', { chronicled: ctx.context.get('chronicled') ?? 0 }));
  }
}

const CREWS = [Tally, Commentator, Closer, Sampler];

/** Events in time order on one or two streams, with gaps from 0 to 1.2 slices. */
const eventsArb = fc
  .array(fc.record({ gap: fc.integer({ min: 0, max: 600 }), kind: fc.constantFrom('a', 'b', 'c'), stream: fc.constantFrom('s1', 's2'), v: fc.integer({ min: 0, max: 99 }) }), {
    minLength: 1,
    maxLength: 30,
  })
  .map((items) => {
    let ts = T0;
    return items.map(({ gap, kind, stream, v }): Input => {
      ts += gap;
      return { ts: new Date(ts).toISOString(), kind, stream_id: stream, payload: { v } };
    });
  });

async function run(events: readonly Input[], config: Record<string, unknown> = {}, providers: ProviderRegistration[] = [], crews = CREWS): Promise<TestRunResult> {
  return (await createTestingApp({ crews, config: { slice_ms: 500, ...config }, providers })).run(events);
}

/** Each (action kind, stream)'s actions in order: the order DESIGN promises. */
function perCrew(r: TestRunResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of r.actions) (out[`${a.kind}@${a.stream_id}`] ??= []).push(JSON.stringify(a));
  return out;
}

const sortedLines = (xs: readonly unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

function contexts(r: TestRunResult) {
  return { s1: r.context('s1'), s2: r.context('s2') };
}

describe('determinism (property-based)', () => {
  it('(a) batch mode and paced live mode give the same actions, context and errors', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.constantFrom(1, 7, 100), async (events, pace) => {
        const batch = await run(events);
        const live = await run(events, { pace }, [{ token: CLOCK, useValue: new ManualClock(0) }]);
        expect(perCrew(live)).toEqual(perCrew(batch));
        expect(contexts(live)).toEqual(contexts(batch));
        expect(sortedLines(live.errors)).toEqual(sortedLines(batch.errors));
      }),
      { numRuns: 40 },
    );
  });

  it('(b) eager and non-eager dispatch give the same output', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 0, max: 800 }), async (events, lateness) => {
        const eager = await run(events, { lateness_ms: lateness });
        const held = await run(events, { lateness_ms: lateness, eager_dispatch: false });
        expect(perCrew(held)).toEqual(perCrew(eager));
        expect(contexts(held)).toEqual(contexts(eager));
        expect(sortedLines(held.errors)).toEqual(sortedLines(eager.errors));
      }),
      { numRuns: 60 },
    );
  });

  it('(c) replaying with the journal reproduces a run with timeouts', async () => {
    @Crew({ id: 'sluggish', timeoutMs: 15, maxErrors: 100 })
    class Sluggish {
      @OnEvent('*')
      async on(event: Event<Payload>, ctx: CrewContext): Promise<void> {
        ctx.context.set(`v${event.payload.v}`, true);
        if (event.payload.slow) await new Promise((resolve) => setTimeout(resolve, 40));
        ctx.emit('slow_done', { v: event.payload.v });
      }
    }
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), async (base, slow) => {
        const events = base.slice(0, 8).map((e, i) => ({ ...e, payload: { ...e.payload, slow: slow[i] } }));
        const path = join(mkdtempSync(join(tmpdir(), 'live-crew-prop-')), 'journal.jsonl');
        const journal = (options: ConstructorParameters<typeof JsonlDecisionJournal>[0]) => [{ token: DECISION_JOURNAL, useValue: new JsonlDecisionJournal(options) }];
        const first = await (await createTestingApp({ crews: [Sluggish], providers: journal({ recordTo: path }) })).run(events);
        const replay = await (await createTestingApp({ crews: [Sluggish], providers: journal({ replayFrom: path }) })).run(events);
        expect(replay.actions).toEqual(first.actions);
        expect(replay.errors).toEqual(first.errors);
        expect(replay.context(events[0]!.stream_id)).toEqual(first.context(events[0]!.stream_id));
      }),
      { numRuns: 6 },
    );
  });

  it('(e) calls that take random time in lanes, with a lagging crew, give the output of a run where every call ends at once, byte for byte', async () => {
    const crews = [...CREWS, Chronicler, Reviewer];
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 7, maxLength: 7 }), async (events, delays) => {
        delayOf = undefined;
        const instant = await run(events, {}, [], crews);
        delayOf = (crew, event) => delays[(event.payload.v + crew.length) % delays.length]!;
        try {
          const timed = await run(events, {}, [], crews);
          expect(timed.actions).toEqual(instant.actions);
          expect(timed.errors).toEqual(instant.errors);
          expect(contexts(timed)).toEqual(contexts(instant));
        } finally {
          delayOf = undefined;
        }
      }),
      { numRuns: 25 },
    );
  });

  // Handlers here are order-insensitive (counts, max): a crew's merged value is its last write in
  // arrival order, so only such handlers are reorder-invariant.
  it('(d) reordering events within lateness_ms changes no slice, no context and makes nothing late', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 100, max: 1000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 30, maxLength: 30 }), async (events, lateness, jitter) => {
        const firstOfStream = new Set(['s1', 's2'].map((s) => events.find((e) => e.stream_id === s)).filter((e) => e !== undefined));
        // Arrival by ts + a jitter within lateness; a stream's first event keeps its place (it
        // defines epoch0), and events of equal ts keep their order (arrival breaks merge ties).
        const distinct = [...new Set(events.map((e) => e.ts))];
        const jitterOf = (e: Input) => (firstOfStream.has(e) ? 0 : jitter[distinct.indexOf(e.ts)]! * lateness);
        const reordered = events
          .map((e, i) => ({ e, i, key: Date.parse(e.ts) + jitterOf(e) }))
          .sort((x, y) => x.key - y.key || x.i - y.i)
          .map((x) => x.e);
        const inOrder = await run(events, { lateness_ms: lateness });
        const shuffled = await run(reordered, { lateness_ms: lateness });
        expect(shuffled.errorsOf('late_event')).toEqual([]);
        expect(sortedLines(shuffled.errors.map((e) => e.payload.reason + e.payload.slice))).toEqual(sortedLines(inOrder.errors.map((e) => e.payload.reason + e.payload.slice)));
        expect(contexts(shuffled)).toEqual(contexts(inOrder));
        const bag = (r: TestRunResult) => Object.fromEntries(Object.entries(perCrew(r)).map(([k, v]) => [k, [...v].sort()]));
        // Counters number events in arrival order, so only their multiset per slice is fixed.
        const withoutCounts = (r: TestRunResult) => Object.fromEntries(Object.entries(bag(r)).filter(([k]) => !k.startsWith('tallied') && !k.startsWith('comment')));
        expect(withoutCounts(shuffled)).toEqual(withoutCounts(inOrder));
        expect(shuffled.summary.slices).toBe(inOrder.summary.slices);
      }),
      { numRuns: 60 },
    );
  });
});
