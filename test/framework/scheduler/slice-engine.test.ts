import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/framework/model/event.js';
import type { CrewDefinition } from '../../../src/framework/discovery/crew-definition.js';
import type { DependencyInput } from '../../../src/framework/model/dependency.js';
import { parseDependency, type Dependency } from '../../../src/framework/model/dependency.js';
import { scheduleCrews } from '../../../src/framework/scheduler/crew-schedule.js';
import { SliceEngine, type EventEnvelope, type SliceTarget } from '../../../src/framework/scheduler/slice-engine.js';
import type { Clock, DecisionJournal } from '../../../src/framework/ports.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const origin = { name: 'test', locate: (p: number) => `test:${p}` };
let position = 0;

function envelope(offsetMs: number, streamId = 's1', kind = 'tick'): EventEnvelope {
  const tsMs = T0 + offsetMs;
  const event: Event = { ts: new Date(tsMs).toISOString(), kind, stream_id: streamId, payload: { at: offsetMs } };
  return { event, tsMs, origin, position: position++ };
}

type Step =
  | ['open', string]
  | ['dispatch', string, number, number]
  | ['close', string, number]
  | ['late', string, number, number]
  | ['refused', string, number, string]
  | ['run', string, number, number, string]
  | ['skip', string, number, string, string[], number[]];

/** A crew as the engine sees it, for schedules. */
function crew(id: string, options: Partial<Pick<CrewDefinition, 'waitPolicy' | 'sliceStride' | 'backlogPolicy'>> & { kinds?: string[]; deps?: DependencyInput[] } = {}): CrewDefinition {
  const dependencies = (options.deps ?? []).map((d) => parseDependency(d).data as Dependency);
  return {
    id,
    type: class {},
    className: id,
    handlers: [{ method: 'on', trigger: options.kinds ? { any: false, kinds: options.kinds } : { any: true } }],
    dependencies,
    maxErrors: 3,
    waitPolicy: options.waitPolicy ?? 'all',
    sliceStride: options.sliceStride ?? 1,
    backlogPolicy: options.backlogPolicy ?? 'fifo',
    timeoutMs: undefined,
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
) {
  const steps: Step[] = [];
  const maybe = () => (async ? new Promise<void>((resolve) => setTimeout(resolve, 1)) : undefined);
  const at = (env: EventEnvelope) => (env.event.payload as { at: number }).at;
  const target: SliceTarget = {
    openStream: (id) => (steps.push(['open', id]), maybe()),
    dispatch: (id, slice, env, indexes) => {
      if (crews.length === 1) steps.push(['dispatch', id, slice, at(env)]);
      else for (const i of indexes) steps.push(['run', id, slice, at(env), crews[i]!.id]);
      return maybe();
    },
    closeSlice: (id, slice) => (steps.push(['close', id, slice]), maybe()),
    late: (env, slice, openFrom) => void steps.push(['late', env.event.stream_id, slice, openFrom]),
    refused: (env, message) => void steps.push(['refused', env.event.stream_id, at(env), message]),
    skipped: (id, slice, i, unmet, events) => void steps.push(['skip', id, slice, crews[i]!.id, [...unmet], events.map(at)]),
    isDisabled: (i) => disabled.has(crews[i]!.id),
  };
  const engine = (timing: { sliceMs: number; latenessMs: number; liveRate?: number }) => new SliceEngine(timing, scheduleCrews(crews), target, live?.clock, live?.journal);
  return { steps, target, engine };
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
    expect(steps.slice(-2)).toEqual([['close', 's1', 0], ['dispatch', 's1', 1, 500]]);
  });

  it('end of input closes every open slice', async () => {
    const { steps, engine: make } = recorder();
    const engine = make({ sliceMs: 500, latenessMs: 1000 });
    await engine.accept(envelope(0));
    await engine.accept(envelope(700));
    expect(steps.filter((s) => s[0] === 'close')).toEqual([]);
    await engine.finish();
    expect(steps.filter((s) => s[0] === 'close')).toEqual([['close', 's1', 0], ['close', 's1', 1]]);
    expect(engine.slicesClosed).toBe(2);
  });

  it('reports an event of a closed slice as late and dispatches nothing for it', async () => {
    const { steps, engine } = recorder();
    await feed(engine({ sliceMs: 500, latenessMs: 0 }), [envelope(0), envelope(1200), envelope(300), envelope(-10)]);
    expect(steps.filter((s) => s[0] === 'late')).toEqual([['late', 's1', 0, 2], ['late', 's1', -1, 2]]);
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
    expect(steps.filter((s) => s[0] === 'close')).toEqual([['close', 's1', 0], ['close', 's1', month]]);
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
    const deps: DependencyInput[] = [{ event: 'goal', offset: -1 }, { event: 'card', offset: -1 }];
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

  /** A journal in memory. */
  function memoryJournal(replay: readonly string[] | undefined) {
    const recorded: string[] = [];
    const journal: DecisionJournal = {
      replaying: replay !== undefined,
      has: (key) => replay?.includes(key) ?? false,
      record: (key) => void recorded.push(key),
      close: async () => {},
    };
    return { journal, recorded };
  }

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
    expect(recorded).toEqual(['wait:b:s1:0:2']);
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
