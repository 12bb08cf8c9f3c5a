import { KNOB_DEFAULTS } from '../../../src/framework/discovery/crew-knobs.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/framework/model/event.js';
import type { CrewDefinition } from '../../../src/framework/discovery/crew-definition.js';
import type { DependencyInput } from '../../../src/framework/model/dependency.js';
import { parseDependency, type Dependency } from '../../../src/framework/model/dependency.js';
import { andThen } from '../../../src/framework/maybe-async.js';
import { scheduleCrews } from '../../../src/framework/scheduler/crew-schedule.js';
import { SliceEngine, type EventEnvelope } from '../../../src/framework/scheduler/slice-engine.js';
import type { SliceTarget, SliceTiming, StreamProgress, StreamResume } from '../../../src/framework/scheduler/slice-target.js';
import type { EngineCheckpoint } from '../../../src/framework/scheduler/engine-checkpoint.js';
import type { Clock } from '../../../src/framework/ports/clock.js';
import type { DecisionJournal } from '../../../src/framework/ports/decision-journal.js';
import { MemoryDecisionJournal } from '../../../src/framework/testing/in-memory-ports.js';
import { systemClock } from '../../../src/framework/system-clock.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const origin = { name: 'test', locate: (p: number) => `test:${p}` };
let position = 0;

function envelope(offsetMs: number, streamId = 's1', kind = 'tick', from = origin): EventEnvelope {
  const tsMs = T0 + offsetMs;
  const event: Event = { ts: new Date(tsMs).toISOString(), kind, stream_id: streamId, payload: { at: offsetMs } };
  return { event, tsMs, origin: from, position: position++ };
}

/** A journal in memory. */
function memoryJournal(replay: readonly string[] | undefined) {
  const journal = new MemoryDecisionJournal(replay && new Map(replay.map((key) => [key, undefined])));
  return { journal, recorded: journal.recorded };
}

type Step =
  | ['open', string]
  | ['dispatch', string, number, number]
  | ['close', string, number]
  | ['late', string, number, number]
  | ['refused', string, number, string]
  | ['forget', string]
  | ['run', string, number, number, string]
  | ['skip', string, number, string, string[], number[]];

/** A crew as the engine sees it, for schedules. */
function crew(id: string, options: Partial<Pick<CrewDefinition, 'waitPolicy' | 'sliceStride' | 'backlogPolicy' | 'lag'>> & { kinds?: string[]; deps?: DependencyInput[] } = {}): CrewDefinition {
  const dependencies = (options.deps ?? []).map((d) => parseDependency(d).data as Dependency);
  return {
    id,
    type: class {},
    className: id,
    handlers: [{ method: 'on', trigger: options.kinds ? { any: false, kinds: options.kinds } : { any: true }, interceptors: [] }],
    dependencies,
    interceptors: [],
    ...KNOB_DEFAULTS,
    waitPolicy: options.waitPolicy ?? 'all',
    sliceStride: options.sliceStride ?? 1,
    backlogPolicy: options.backlogPolicy ?? 'fifo',
    lag: options.lag ?? 0,
  };
}

/**
 * Records what the engine asks for, in order; `async` makes every call resolve later. With one
 * crew, dispatches are recorded as `dispatch`; with several, as a `run` per crew.
 */
function recorder(
  async = false,
  crews: readonly CrewDefinition[] = [crew('only')],
  disabled: ReadonlySet<string> = new Set(),
  live?: { clock: Clock; journal: DecisionJournal },
  resumes: ReadonlyMap<string, StreamResume> = new Map(),
) {
  const steps: Step[] = [];
  const progress: Array<[string, number, StreamProgress]> = [];
  const checkpoints: Array<[number, EngineCheckpoint | undefined]> = [];
  const maybe = () => (async ? new Promise<void>((resolve) => setTimeout(resolve, 1)) : undefined);
  const at = (env: EventEnvelope) => (env.event.payload as { at: number }).at;
  const target: SliceTarget = {
    openStream: (id) => {
      steps.push(['open', id]);
      return andThen(maybe(), () => resumes.get(id));
    },
    dispatch: (id, slice, env, indexes) => {
      if (crews.length === 1) steps.push(['dispatch', id, slice, at(env)]);
      else for (const i of indexes) steps.push(['run', id, slice, at(env), crews[i]!.id]);
      return maybe();
    },
    closeSlice: (id, slice, _end, committed, checkpoint) => {
      checkpoints.push([slice, checkpoint]);
      steps.push(['close', id, slice]);
      progress.push([id, slice, committed]);
      return maybe();
    },
    forgetStream: (id) => void steps.push(['forget', id]),
    late: (env, slice, openFrom) => void steps.push(['late', env.event.stream_id, slice, openFrom]),
    refused: (env, message, ts) => void steps.push(['refused', env.event.stream_id, at(env), `${message} @${ts}`]),
    skipped: (id, slice, i, unmet, events) => void steps.push(['skip', id, slice, crews[i]!.id, [...unmet], events.map(at)]),
    isDisabled: (_id, i) => disabled.has(crews[i]!.id),
  };
  const engine = (timing: SliceTiming) => new SliceEngine(timing, scheduleCrews(crews), target, live?.clock ?? systemClock, live?.journal);
  return { steps, target, engine, progress, checkpoints };
}

async function feed(engine: SliceEngine, envelopes: EventEnvelope[]): Promise<void> {
  for (const env of envelopes) await engine.accept(env);
  await engine.finish();
}

describe('SliceEngine', () => {
  it('bins by epoch0 = the first event received on the stream, and dispatches eagerly', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(100), envelope(599), envelope(600), envelope(1700)]);
    expect(steps).toEqual([
      ['open', 's1'],
      ['dispatch', 's1', 0, 100],
      ['dispatch', 's1', 0, 599],
      ['close', 's1', 0],
      ['dispatch', 's1', 1, 600],
      ['close', 's1', 1],
      ['dispatch', 's1', 3, 1700],
      ['close', 's1', 3],
    ]);
  });

  it('closes a slice when the watermark passes its end, before running the next slice', async () => {
    const { steps, engine: make } = recorder();
    const engine = make({ sliceMs: 500, latenessMs: 0 });
    await engine.accept(envelope(0));
    await engine.accept(envelope(499));
    expect(steps.filter((s) => s[0] === 'close')).toEqual([]);
    await engine.accept(envelope(500));
    expect(steps.slice(-2)).toEqual([
      ['close', 's1', 0],
      ['dispatch', 's1', 1, 500],
    ]);
  });

  it('end of input closes every open slice', async () => {
    const { steps, engine: make } = recorder();
    const engine = make({ sliceMs: 500, latenessMs: 1000 });
    await engine.accept(envelope(0));
    await engine.accept(envelope(700));
    expect(steps.filter((s) => s[0] === 'close')).toEqual([]);
    await engine.finish();
    expect(steps.filter((s) => s[0] === 'close')).toEqual([
      ['close', 's1', 0],
      ['close', 's1', 1],
    ]);
    expect(engine.slicesClosed).toBe(2);
  });

  it('reports an event of a closed slice as late and dispatches nothing for it', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(0), envelope(1200), envelope(300), envelope(-10)]);
    expect(steps.filter((s) => s[0] === 'late')).toEqual([
      ['late', 's1', 0, 2],
      ['late', 's1', -1, 2],
    ]);
    expect(steps.filter((s) => s[0] === 'dispatch').map((s) => s[3])).toEqual([0, 1200]);
  });

  it('with lateness, holds later slices until earlier ones close, then runs them in arrival order', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 600 }), [
      envelope(0),
      envelope(700), // slice 1: slice 0 still open (watermark 100), so it waits
      envelope(200), // slice 0: still open, runs at once
      envelope(800), // slice 1: waits behind the first
      envelope(1300), // watermark 700: slice 0 closes, slice 1's queue runs
      envelope(-50), // slice -1 was open until slice 0 closed: now late
    ]);
    expect(steps.filter((s) => s[0] !== 'open')).toEqual([
      ['dispatch', 's1', 0, 0],
      ['dispatch', 's1', 0, 200],
      ['close', 's1', 0],
      ['dispatch', 's1', 1, 700],
      ['dispatch', 's1', 1, 800],
      ['late', 's1', -1, 1],
      ['close', 's1', 1],
      ['dispatch', 's1', 2, 1300],
      ['close', 's1', 2],
    ]);
  });

  it('accepts events before epoch0 within lateness (negative slices)', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 1000 }), [envelope(0), envelope(-700)]);
    expect(steps.filter((s) => s[0] !== 'open')).toEqual([
      ['dispatch', 's1', -2, -700],
      ['close', 's1', -2],
      ['dispatch', 's1', 0, 0],
      ['close', 's1', 0],
    ]);
  });

  it('keeps streams independent: own epoch0, own watermark', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(0, 'a'), envelope(10_000, 'b'), envelope(400, 'a'), envelope(10_600, 'b')]);
    expect(steps).toEqual([
      ['open', 'a'],
      ['dispatch', 'a', 0, 0],
      ['open', 'b'],
      ['dispatch', 'b', 0, 10_000],
      ['dispatch', 'a', 0, 400],
      ['close', 'b', 0],
      ['dispatch', 'b', 1, 10_600],
      ['close', 'a', 0],
      ['close', 'b', 1],
    ]);
  });

  it('jumps over empty slices: a month-long gap costs one close', async () => {
    const { steps, engine } = recorder();
    const month = 30 * 24 * 3600 * 1000;
    await feed(engine({ sliceMs: 1, latenessMs: 0 }), [envelope(0), envelope(month)]);
    expect(steps.filter((s) => s[0] === 'close')).toEqual([
      ['close', 's1', 0],
      ['close', 's1', month],
    ]);
  });

  it('gives the same order when every target call is asynchronous', async () => {
    const events = () => [envelope(0), envelope(700), envelope(200), envelope(1300), envelope(2600), envelope(100, 'b')];
    const sync = recorder();
    const later = recorder(true);
    position = 0;
    await feed(sync.engine({ sliceMs: 500, latenessMs: 600 }), events());
    position = 0;
    await feed(later.engine({ sliceMs: 500, latenessMs: 600 }), events());
    expect(later.steps).toEqual(sync.steps);
  });
});

describe('SliceEngine dependencies and knobs (DESIGN §4)', () => {
  const timing = { sliceMs: 500, latenessMs: 0 };
  const without = (steps: Step[], ...kinds: Step[0][]) => steps.filter((s) => !kinds.includes(s[0]));

  it('{crew, offset: 0} orders the crew after its dependency inside the slice: it runs when the slice closes', async () => {
    const { steps, engine } = recorder(false, [crew('a'), crew('b', { deps: [{ crew: 'a', offset: 0 }] })]);
    await feed(engine(timing), [envelope(0), envelope(100), envelope(600)]);
    expect(without(steps, 'open')).toEqual([
      ['run', 's1', 0, 0, 'a'],
      ['run', 's1', 0, 100, 'a'],
      ['run', 's1', 0, 0, 'b'],
      ['run', 's1', 0, 100, 'b'],
      ['close', 's1', 0],
      ['run', 's1', 1, 600, 'a'],
      ['run', 's1', 1, 600, 'b'],
      ['close', 's1', 1],
    ]);
  });

  it('{crew, offset: -1} runs eagerly when the dependency finished n-1; slices before 0 count as finished', async () => {
    const { steps, engine } = recorder(false, [crew('a'), crew('b', { deps: [{ crew: 'a' }] })]);
    await feed(engine(timing), [envelope(0), envelope(600)]);
    expect(without(steps, 'open', 'close')).toEqual([
      ['run', 's1', 0, 0, 'a'],
      ['run', 's1', 0, 0, 'b'],
      ['run', 's1', 1, 600, 'a'],
      ['run', 's1', 1, 600, 'b'],
    ]);
  });

  it('an unsatisfied crew skips the slice and records why: a disabled dependency finishes no slice', async () => {
    const { steps, engine } = recorder(false, [crew('a'), crew('b', { deps: [{ crew: 'a' }] })], new Set(['a']));
    await feed(engine(timing), [envelope(0), envelope(600), envelope(700)]);
    expect(steps.filter((s) => s[0] === 'skip' || s[0] === 'run')).toEqual([
      ['run', 's1', 0, 0, 'a'],
      ['run', 's1', 0, 0, 'b'],
      ['run', 's1', 1, 600, 'a'],
      ['run', 's1', 1, 700, 'a'],
      ['skip', 's1', 1, 'b', ['crew a has not finished slice 0'], [600, 700]],
    ]);
  });

  it('a skip propagates: a crew depending on one that skipped n-1 skips n', async () => {
    const crews = [crew('a'), crew('b', { deps: [{ crew: 'a' }] }), crew('c', { deps: [{ crew: 'b' }] })];
    const { steps, engine } = recorder(false, crews, new Set(['a']));
    await feed(engine(timing), [envelope(600), envelope(1100), envelope(1600)]);
    expect(steps.filter((s) => s[0] === 'skip')).toEqual([
      ['skip', 's1', 1, 'b', ['crew a has not finished slice 0'], [1100]],
      ['skip', 's1', 2, 'b', ['crew a has not finished slice 1'], [1600]],
      ['skip', 's1', 2, 'c', ['crew b has not finished slice 1'], [1600]],
    ]);
  });

  it('a crew with no events in a slice finishes it when the slice closes', async () => {
    const crews = [crew('x', { kinds: ['x'] }), crew('b', { kinds: ['tick'], deps: [{ crew: 'x' }] })];
    const { steps, engine } = recorder(false, crews);
    await feed(engine(timing), [envelope(0), envelope(600), envelope(1100)]);
    expect(steps.filter((s) => s[0] === 'run').map((s) => s[4])).toEqual(['b', 'b', 'b']);
  });

  it('{event, offset: 0} is satisfied when an event of that kind exists in the slice, whenever it arrived', async () => {
    const crews = [crew('b', { kinds: ['tick'], deps: [{ event: 'kick_off', offset: 0 }] })];
    const { steps, engine } = recorder(false, [...crews, crew('seer', { kinds: ['kick_off'] })]);
    await feed(engine(timing), [envelope(0), envelope(100, 's1', 'kick_off'), envelope(600)]);
    expect(steps.filter((s) => s[0] === 'run' || s[0] === 'skip')).toEqual([
      ['run', 's1', 0, 100, 'seer'],
      ['run', 's1', 0, 0, 'b'],
      ['skip', 's1', 1, 'b', ['no kick_off event in slice 1'], [600]],
    ]);
  });

  it('{event, offset: -1} looks at the previous slice and runs eagerly', async () => {
    const { steps, engine } = recorder(false, [crew('b', { kinds: ['tick'], deps: [{ event: 'goal', offset: -1 }] }), crew('g', { kinds: ['goal'] })]);
    await feed(engine(timing), [envelope(0, 's1', 'goal'), envelope(600), envelope(1100)]);
    expect(steps.filter((s) => s[0] === 'run' || s[0] === 'skip')).toEqual([
      ['run', 's1', 0, 0, 'g'],
      ['run', 's1', 1, 600, 'b'],
      ['skip', 's1', 2, 'b', ['no goal event in slice 1'], [1100]],
    ]);
  });

  it("waitPolicy 'any' runs when one dependency is met; 'none' always runs", async () => {
    const deps: DependencyInput[] = [
      { event: 'goal', offset: -1 },
      { event: 'card', offset: -1 },
    ];
    const crews = [crew('any', { kinds: ['tick'], deps, waitPolicy: 'any' }), crew('none', { kinds: ['tick'], deps, waitPolicy: 'none' }), crew('g', { kinds: ['goal'] })];
    const { steps, engine } = recorder(false, crews);
    await feed(engine(timing), [envelope(0, 's1', 'goal'), envelope(600), envelope(1100)]);
    expect(steps.filter((s) => s[0] === 'run' || s[0] === 'skip')).toEqual([
      ['run', 's1', 0, 0, 'g'],
      ['run', 's1', 1, 600, 'any'],
      ['run', 's1', 1, 600, 'none'],
      ['run', 's1', 2, 1100, 'none'],
      ['skip', 's1', 2, 'any', ['no goal event in slice 1', 'no card event in slice 1'], [1100]],
    ]);
  });

  it('sliceStride N runs on slices n % N == 0; events of skipped slices are delivered, in order, at the next run slice', async () => {
    const { steps, engine } = recorder(false, [crew('every2', { sliceStride: 2 }), crew('each')]);
    await feed(engine(timing), [envelope(0), envelope(600), envelope(700), envelope(1100), envelope(1600)]);
    expect(steps.filter((s) => s[0] === 'run' && s[4] === 'every2')).toEqual([
      ['run', 's1', 0, 0, 'every2'],
      ['run', 's1', 2, 600, 'every2'],
      ['run', 's1', 2, 700, 'every2'],
      ['run', 's1', 2, 1100, 'every2'],
      ['run', 's1', 4, 1600, 'every2'],
    ]);
  });

  it("backlogPolicy 'latest' hands over only the newest event of each kind of a backlog", async () => {
    const { steps, engine } = recorder(false, [crew('lazy', { sliceStride: 4, backlogPolicy: 'latest' }), crew('each')]);
    await feed(engine(timing), [envelope(0), envelope(600, 's1', 'a'), envelope(700, 's1', 'b'), envelope(800, 's1', 'a'), envelope(2100, 's1', 'b')]);
    expect(steps.filter((s) => s[0] === 'run' && s[4] === 'lazy').map((s) => [s[2], s[3]])).toEqual([
      [0, 0],
      [4, 700], // the backlog of slices 1-3 was a@600, b@700, a@800: the newest of each kind, in arrival order
      [4, 800],
      [4, 2100], // slice 4's own event runs as it arrives
    ]);
  });
});

describe("SliceEngine waitPolicy 'timeout:<ms>' (DESIGN §4)", () => {
  const crews = [crew('a'), crew('b', { deps: [{ crew: 'a', offset: 0 }], waitPolicy: 'timeout:100' })];
  /** b's wait ends after two events: it runs them, then runs the third at once, all before slice 0 closes. */
  const RELEASED_EARLY: Step[] = [
    ['run', 's1', 0, 0, 'a'],
    ['run', 's1', 0, 10, 'a'],
    ['run', 's1', 0, 0, 'b'],
    ['run', 's1', 0, 10, 'b'],
    ['run', 's1', 0, 200, 'a'],
    ['run', 's1', 0, 200, 'b'],
    ['close', 's1', 0],
  ];

  it('in live mode a held crew stops waiting after ms of wall time and runs before the slice closes; the decision is journaled', async () => {
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async () => {} };
    const { journal, recorded } = memoryJournal(undefined);
    const { steps, engine: make } = recorder(false, crews, new Set(), { clock, journal });
    const engine = make({ sliceMs: 500, latenessMs: 0, liveRate: 1 });
    await engine.accept(envelope(0));
    await engine.accept(envelope(10));
    now = 50;
    await engine.tick();
    expect(steps.filter((s) => s[0] === 'run').map((s) => s[4])).toEqual(['a', 'a']);
    now = 150;
    await engine.tick();
    await engine.accept(envelope(200));
    await engine.finish();
    expect(without(steps)).toEqual(RELEASED_EARLY);
    expect([...recorded.keys()]).toEqual(['wait:b:s1:0:2']);
  });

  it('a replay with the journal releases the wait at the same point of the input, without the clock', async () => {
    const clock: Clock = { now: () => 0, sleep: async () => {} };
    const { journal } = memoryJournal(['wait:b:s1:0:2']);
    const { steps, engine: make } = recorder(false, crews, new Set(), { clock, journal });
    const engine = make({ sliceMs: 500, latenessMs: 0, liveRate: 1 });
    for (const e of [envelope(0), envelope(10), envelope(200)]) await engine.accept(e);
    await engine.finish();
    expect(without(steps)).toEqual(RELEASED_EARLY);
  });

  function without(steps: Step[]) {
    return steps.filter((s) => s[0] !== 'open');
  }
});

describe('SliceEngine: live ticks are journaled decisions (issue 16)', () => {
  const LIVE_TIMING = { sliceMs: 500, latenessMs: 0, liveRate: 1 };

  /** A live engine deciding into `journal`, on a clock the test moves (`now.value`, from 0). */
  function liveEngine(journal: DecisionJournal, timing: SliceTiming, crews = [crew('only')]) {
    const now = { value: 0 };
    const { steps, engine } = recorder(false, crews, new Set(), { clock: { now: () => now.value, sleep: async () => {} }, journal });
    return { steps, engine: engine(timing), now };
  }

  /** s1 at 0 and 100, a tick at `tickAt` ms of wall time, then s1 at `then`: the steps, streams opening left out. */
  async function tickBetween(journal: DecisionJournal, timing: SliceTiming, tickAt: number, then: number) {
    const { steps, engine, now } = liveEngine(journal, timing);
    await engine.accept(envelope(0));
    await engine.accept(envelope(100));
    now.value = tickAt;
    await engine.tick();
    await engine.accept(envelope(then));
    await engine.finish();
    return steps.filter((s) => s[0] !== 'open');
  }

  /** Live: 1.2 s of wall time close slice 0; s1 at 300 is then late. */
  const liveRun = (journal: DecisionJournal) => tickBetween(journal, LIVE_TIMING, 1200, 300);
  const LIVE: Step[] = [
    ['dispatch', 's1', 0, 0],
    ['dispatch', 's1', 0, 100],
    ['close', 's1', 0],
    ['late', 's1', 0, 2],
  ];

  it('a tick that closes slices is journaled before it acts: after how many events, which tick, and where each stream went', async () => {
    const { journal, recorded } = memoryJournal(undefined);
    expect(await liveRun(journal)).toEqual(LIVE);
    expect([...recorded]).toEqual([['tick:2:0', { advanced: [['s1', 2]] }]]);
  });

  it('a replay closes the same slices at the same point of the input, by the journal, without the clock; a batch replay too', async () => {
    const { journal: recording, recorded } = memoryJournal(undefined);
    await liveRun(recording);
    // The replay's clock never moves: only the journal can close slice 0 before s1@300.
    expect(await liveRun(new MemoryDecisionJournal(recorded))).toEqual(LIVE);
    const { steps, engine } = recorder(false, [crew('only')], new Set(), { clock: { now: () => 0, sleep: async () => {} }, journal: new MemoryDecisionJournal(recorded) });
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(0), envelope(100), envelope(300)]);
    expect(steps.filter((s) => s[0] !== 'open')).toEqual(LIVE);
  });

  it("a successor going over the leader's input applies the leader's ticks first; its own ticks at the same point take the next number", async () => {
    const leader = new MemoryDecisionJournal();
    await liveRun(leader);
    // A successor's journal holds what the leader recorded, and records on (it does not replay).
    const successor = new MemoryDecisionJournal();
    for (const [key, value] of leader.recorded) successor.record(key, value);
    const { steps, engine, now } = liveEngine(successor, LIVE_TIMING, [crew('only'), crew('other', { kinds: ['other'] })]);
    await engine.accept(envelope(0));
    await engine.accept(envelope(100, 's2'));
    // Its clock says 2.2 s have passed: its tick applies the leader's tick:2:0 (s1 to slice 2),
    // then moves both streams to slice 4 as tick:2:1 (s2's slice 0 closes; the rest are empty).
    now.value = 2200;
    await engine.tick();
    expect(steps.filter((s) => s[0] === 'close')).toEqual([
      ['close', 's1', 0],
      ['close', 's2', 0],
    ]);
    expect(successor.recorded.get('tick:2:1')).toEqual({
      advanced: [
        ['s1', 4],
        ['s2', 4],
      ],
    });
  });

  it('a stream forgotten as idle by wall time is a journaled decision too: a replay forgets it at the same point', async () => {
    // 3 s of wall time close s1's slice and forget it; s1 at 1200 then starts it afresh.
    const run = (journal: DecisionJournal) => tickBetween(journal, { ...LIVE_TIMING, streamIdleMs: 1000 }, 3000, 1200);
    const live = new MemoryDecisionJournal();
    const steps = await run(live);
    expect(steps.filter((s) => s[0] === 'forget' || s[0] === 'late')).toEqual([['forget', 's1']]);
    expect([...live.recorded]).toEqual([
      ['tick:2:0', { advanced: [['s1', 6]] }],
      ['tick:2:1', { forgotten: ['s1'] }],
    ]);
    // The replay's clock never moves: only the journal can forget s1, so s1@1200 is not late.
    expect(await run(new MemoryDecisionJournal(live.recorded))).toEqual(steps);
  });

  it('a journaled tick that is not one stops the run, naming the decision', async () => {
    const journal = new MemoryDecisionJournal(new Map([['tick:1:0', { s1: 2 }]]));
    const { engine: make } = recorder(false, [crew('only')], new Set(), { clock: { now: () => 0, sleep: async () => {} }, journal });
    const engine = make({ sliceMs: 500, latenessMs: 0 });
    await engine.accept(envelope(0));
    expect(() => engine.accept(envelope(100))).toThrow(
      /^the journal's decision "tick:1:0" is not \{"advanced": \[\[stream id, slice\], \.\.\.\]\} or \{"forgotten": \[stream id, \.\.\.\]\} \(.*\): the journal is damaged/,
    );
  });
});

describe('SliceEngine checkpoints: a successor goes on from one as if it had read the stream from the start (issue 16)', () => {
  const crews = [
    crew('a'),
    crew('b', { deps: [{ crew: 'a', offset: -1 }] }),
    crew('c', { deps: [{ event: 'goal', offset: -1 }] }),
    crew('d', { deps: [{ crew: 'a', offset: 0 }] }),
    crew('e', { sliceStride: 3 }),
    // Its writes of a slice before a checkpoint merge in one after it, which must close.
    crew('f', { lag: 2, kinds: ['goal'] }),
  ];
  /** Steps about slices after `slice`: what a successor from its checkpoint must repeat exactly. */
  const stepsAfter = (steps: Step[], slice: number) => steps.filter((s) => (s[0] === 'run' || s[0] === 'close' || s[0] === 'skip') && s[2] > slice);

  it('the steps after any checkpoint are those of the full run, for any input', async () => {
    const input = fc.array(fc.record({ dt: fc.integer({ min: -400, max: 700 }), goal: fc.boolean() }), { minLength: 1, maxLength: 40 });
    // Lateness under a slice, and over two: several slices open at once.
    const lateness = fc.constantFrom(0, 300, 1200);
    await fc.assert(
      fc.asyncProperty(input, lateness, async (moves, latenessMs) => {
        const timing = { sliceMs: 500, latenessMs };
        let t = 0;
        const envelopes = moves.map(({ dt, goal }) => {
          t = Math.max(0, t + dt);
          return envelope(t, 's1', goal ? 'goal' : 'tick');
        });
        const full = recorder(false, crews);
        await feed(new SliceEngine(timing, scheduleCrews(crews), { ...full.target, checkpoints: true }, systemClock), envelopes);
        for (const [slice, checkpoint] of full.checkpoints) {
          if (checkpoint === undefined) continue;
          const successor = recorder(false, crews);
          const engine = new SliceEngine(timing, scheduleCrews(crews), successor.target, systemClock);
          await engine.restore(JSON.parse(JSON.stringify(checkpoint)));
          await feed(
            engine,
            envelopes.filter((e) => e.position > checkpoint.position),
          );
          expect(stepsAfter(successor.steps, slice)).toEqual(stepsAfter(full.steps, slice));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a slice's commit never passes an event a stride crew still holds for a later slice, even one older than that slice's first", async () => {
    const stride = [crew('e', { sliceStride: 3 })];
    const { engine, progress } = recorder(false, stride);
    // 1000 waits in slice 2 while 999 and 998 (slice 1) go to e's backlog of slice 3; 1000 joins them when slice 2 runs.
    const events = [envelope(0), envelope(1000), envelope(999), envelope(998)];
    await feed(engine({ sliceMs: 500, latenessMs: 300 }), events);
    const slice2 = progress.find(([, slice]) => slice === 2)![2];
    expect(slice2.position).toBe(events[1]!.position - 1);
  });

  it('a checkpoint counts the events before its position, so journaled decisions after it are found', async () => {
    const full = recorder(false, [crew('only')]);
    const engine = new SliceEngine({ sliceMs: 500, latenessMs: 0 }, scheduleCrews([crew('only')]), { ...full.target, checkpoints: true }, systemClock);
    const events = [envelope(0), envelope(100), envelope(600), envelope(700), envelope(1200)];
    await feed(engine, events);
    const checkpoints = full.checkpoints.map(([slice, checkpoint]) => [slice, checkpoint?.position, checkpoint?.accepted]);
    // Slice 0 closed as the event at 600 arrived: events[0..1] are in it, 2 of them.
    expect(checkpoints).toEqual([
      [0, events[1]!.position, 2],
      [1, events[3]!.position, 4],
      [2, events[4]!.position, 5],
    ]);
  });
});

describe('SliceEngine: guards against bad clocks, resumption, idle streams (issue 10)', () => {
  const HOUR = 3_600_000;
  const dispatched = (steps: Step[]) => steps.filter((s) => s[0] === 'dispatch').map((s) => [s[2], s[3]]);

  it('holds an event that jumps past maxJumpMs; the next event, back on the old timeline, refutes it', async () => {
    const { steps, engine } = recorder();
    const poison = Date.parse('9999-12-31T00:00:00Z') - T0;
    await feed(engine({ sliceMs: 500, latenessMs: 0, maxJumpMs: HOUR }), [envelope(0), envelope(100), envelope(poison), envelope(200), envelope(700)]);
    expect(dispatched(steps)).toEqual([
      [0, 0],
      [0, 100],
      [0, 200],
      [1, 700],
    ]);
    expect(steps.filter((s) => s[0] === 'late')).toEqual([]);
    expect(steps.filter((s) => s[0] === 'refused')).toEqual([
      [
        'refused',
        's1',
        poison,
        expect.stringMatching(
          /^event jumps \d+ ms ahead of the stream's newest event \(2024-01-01T00:00:00\.100Z\), over max_jump_ms 3600000, and no later event confirmed the jump; refused.* @2024-01-01T00:00:00\.100Z$/,
        ),
      ],
    ]);
  });

  it('lets a real long pause through once the next event confirms it: slices go on from there', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0, maxJumpMs: HOUR }), [envelope(0), envelope(2 * HOUR), envelope(2 * HOUR + 100), envelope(2 * HOUR + 600)]);
    expect(dispatched(steps)).toEqual([
      [0, 0],
      [14_400, 2 * HOUR],
      [14_400, 2 * HOUR + 100],
      [14_401, 2 * HOUR + 600],
    ]);
    expect(steps.filter((s) => s[0] === 'refused' || s[0] === 'late')).toEqual([]);
  });

  it('refuses a jump nothing confirmed by the end of the input, and one a further jump leaves behind', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0, maxJumpMs: HOUR }), [envelope(0), envelope(10 * HOUR), envelope(30 * HOUR)]);
    expect(dispatched(steps)).toEqual([[0, 0]]);
    expect(steps.filter((s) => s[0] === 'refused').map((s) => s[2])).toEqual([10 * HOUR, 30 * HOUR]);
  });

  it('without maxJumpMs, one far-future event makes the rest of the stream late (the guard is what prevents it)', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(0), envelope(10 * HOUR), envelope(100)]);
    expect(steps.filter((s) => s[0] === 'late')).toHaveLength(1);
  });

  it('in live mode refuses an event stamped more than maxFutureMs ahead of the clock, journaling it; a replay refuses the same one', async () => {
    const clock: Clock = { now: () => T0, sleep: async () => {} };
    const { journal, recorded } = memoryJournal(undefined);
    const live = recorder(false, [crew('only')], new Set(), { clock, journal });
    const input = [envelope(0), envelope(120_000), envelope(30_000)];
    await feed(live.engine({ sliceMs: 500, latenessMs: 0, liveRate: 1, maxFutureMs: 60_000 }), input);
    expect(live.steps.filter((s) => s[0] === 'refused')).toEqual([
      ['refused', 's1', 120_000, "event is stamped 120000 ms ahead of the wall clock, over max_future_ms 60000 (a producer's clock is wrong?); refused @2024-01-01T00:00:00.000Z"],
    ]);
    expect([...recorded.keys()]).toEqual([`future:s1:${input[1]!.position}`]);

    const later: Clock = { now: () => T0 + 10 * HOUR, sleep: async () => {} };
    const replay = recorder(false, [crew('only')], new Set(), { clock: later, journal: memoryJournal([...recorded.keys()]).journal });
    await feed(replay.engine({ sliceMs: 500, latenessMs: 0, liveRate: 1, maxFutureMs: 60_000 }), input);
    expect(replay.steps.filter((s) => s[0] === 'refused').map((s) => s[2])).toEqual([120_000]);
  });

  it('goes on from a stream the backend holds: its epoch0 and slices, skipping what a durable origin already merged', async () => {
    const durable = { ...origin, durable: true };
    const events = [0, 1, 2, 3].map((i) => envelope(1000 + i * 500, 's1', 'tick', durable));
    const resume = { epoch0: T0 - 5000, slice: 13, position: events[1]!.position };
    const { steps, engine } = recorder(false, [crew('only')], new Set(), undefined, new Map([['s1', resume]]));
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), events);
    // Slices count from the stored epoch0; events at or before the stored position are not run again.
    expect(steps.filter((s) => s[0] === 'late')).toEqual([]);
    expect(dispatched(steps)).toEqual([
      [14, 2000],
      [15, 2500],
    ]);
  });

  it('reports late, not skipped, an event of a merged slice that a non-durable origin brings again', async () => {
    const events = [envelope(1000), envelope(4000)];
    const { steps, engine } = recorder(false, [crew('only')], new Set(), undefined, new Map([['s1', { epoch0: T0, slice: 3, position: events[0]!.position }]]));
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), events);
    expect(steps.filter((s) => s[0] === 'late')).toEqual([['late', 's1', 2, 4]]);
    expect(dispatched(steps)).toEqual([[8, 4000]]);
  });

  it('commits with each slice the input position before which everything is merged: not past an event still queued', async () => {
    const { progress, engine } = recorder();
    const [a, b, c, d] = [envelope(0), envelope(1200), envelope(600), envelope(2000)];
    await feed(engine({ sliceMs: 500, latenessMs: 1000 }), [a!, b!, c!, d!]);
    // d closes slices 0 and 1; b, taken before c, is in slice 2, still open: only a counts as
    // merged until slice 2 closes, so a restart would get b (and what follows) again.
    expect(progress.map(([, slice, p]) => [slice, p.position - a!.position, p.epoch0])).toEqual([
      [0, 0, T0],
      [1, 0, T0],
      [2, 2, T0],
      [4, 3, T0],
    ]);
  });

  it('in live mode forgets a stream idle for streamIdleMs of wall time once its slices are closed, and ticks no longer visit it', async () => {
    let now = T0;
    const clock: Clock = { now: () => now, sleep: async () => {} };
    const { steps, engine: make } = recorder(false, [crew('only')], new Set(), { clock, journal: memoryJournal(undefined).journal });
    const engine = make({ sliceMs: 500, latenessMs: 0, liveRate: 1, streamIdleMs: 10_000 });
    await engine.accept(envelope(0, 's1'));
    now += 5_000;
    await engine.tick();
    expect(steps.filter((s) => s[0] === 'forget')).toEqual([]);
    now += 6_000;
    await engine.tick();
    expect(steps.filter((s) => s[0] === 'close' || s[0] === 'forget')).toEqual([
      ['close', 's1', 0],
      ['forget', 's1'],
    ]);
    expect(engine.committedThrough('s1')).toBe(Number.POSITIVE_INFINITY);
  });

  it('does not let an event held apart by the jump guard age the other streams into idleness', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0, maxJumpMs: HOUR, streamIdleMs: 60_000 }), [
      envelope(0, 's1'),
      envelope(0, 's2'),
      envelope(100 * HOUR, 's2'),
      envelope(100, 's1'),
      envelope(100, 's2'),
    ]);
    expect(steps.filter((s) => s[0] === 'forget' || s[0] === 'late')).toEqual([]);
    expect(steps.filter((s) => s[0] === 'refused').map((s) => [s[1], s[2]])).toEqual([['s2', 100 * HOUR]]);
  });

  it('forgets a stream idle for streamIdleMs of event time (its slices closed), and opens it again when it comes back', async () => {
    const { steps, engine } = recorder();
    const idle = 10 * 60_000;
    await feed(engine({ sliceMs: 500, latenessMs: 0, streamIdleMs: idle }), [envelope(0, 's1'), envelope(0, 's2'), envelope(idle + 1000, 's2'), envelope(idle + 1200, 's1')]);
    const s1 = steps.filter((s) => s[1] === 's1').map((s) => s[0]);
    expect(s1).toEqual(['open', 'dispatch', 'close', 'forget', 'open', 'dispatch', 'close']);
  });
});
