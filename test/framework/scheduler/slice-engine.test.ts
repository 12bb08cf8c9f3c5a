import { describe, expect, it } from 'vitest';
import type { Event } from '../../../src/framework/model/event.js';
import { SliceEngine, type EventEnvelope, type SliceTarget } from '../../../src/framework/scheduler/slice-engine.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const origin = { name: 'test', locate: (p: number) => `test:${p}` };
let position = 0;

function envelope(offsetMs: number, streamId = 's1', kind = 'tick'): EventEnvelope {
  const tsMs = T0 + offsetMs;
  const event: Event = { ts: new Date(tsMs).toISOString(), kind, stream_id: streamId, payload: { at: offsetMs } };
  return { event, tsMs, origin, position: position++ };
}

type Step = ['open', string] | ['dispatch', string, number, number] | ['close', string, number] | ['late', string, number, number];

/** Records what the engine asks for, in order; `async` makes every call resolve later. */
function recorder(async = false) {
  const steps: Step[] = [];
  const maybe = () => (async ? new Promise<void>((resolve) => setTimeout(resolve, 1)) : undefined);
  const target: SliceTarget = {
    openStream: (id) => (steps.push(['open', id]), maybe()),
    dispatch: (id, slice, env) => (steps.push(['dispatch', id, slice, (env.event.payload as { at: number }).at]), maybe()),
    closeSlice: (id, slice) => (steps.push(['close', id, slice]), maybe()),
    late: (env, slice, openFrom) => void steps.push(['late', env.event.stream_id, slice, openFrom]),
  };
  return { steps, target };
}

async function feed(engine: SliceEngine, envelopes: EventEnvelope[]): Promise<void> {
  for (const env of envelopes) await engine.accept(env);
  await engine.finish();
}

describe('SliceEngine', () => {
  it('bins by epoch0 = the first event received on the stream, and dispatches eagerly', async () => {
    const { steps, target } = recorder();
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 0 }, target), [envelope(100), envelope(599), envelope(600), envelope(1700)]);
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
    const { steps, target } = recorder();
    const engine = new SliceEngine({ sliceMs: 500, latenessMs: 0 }, target);
    await engine.accept(envelope(0));
    await engine.accept(envelope(499));
    expect(steps.filter((s) => s[0] === 'close')).toEqual([]);
    await engine.accept(envelope(500));
    expect(steps.slice(-2)).toEqual([['close', 's1', 0], ['dispatch', 's1', 1, 500]]);
  });

  it('end of input closes every open slice', async () => {
    const { steps, target } = recorder();
    const engine = new SliceEngine({ sliceMs: 500, latenessMs: 1000 }, target);
    await engine.accept(envelope(0));
    await engine.accept(envelope(700));
    expect(steps.filter((s) => s[0] === 'close')).toEqual([]);
    await engine.finish();
    expect(steps.filter((s) => s[0] === 'close')).toEqual([['close', 's1', 0], ['close', 's1', 1]]);
    expect(engine.slicesClosed).toBe(2);
  });

  it('reports an event of a closed slice as late and dispatches nothing for it', async () => {
    const { steps, target } = recorder();
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 0 }, target), [envelope(0), envelope(1200), envelope(300), envelope(-10)]);
    expect(steps.filter((s) => s[0] === 'late')).toEqual([['late', 's1', 0, 2], ['late', 's1', -1, 2]]);
    expect(steps.filter((s) => s[0] === 'dispatch').map((s) => s[3])).toEqual([0, 1200]);
  });

  it('with lateness, holds later slices until earlier ones close, then runs them in arrival order', async () => {
    const { steps, target } = recorder();
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 600 }, target), [
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
    const { steps, target } = recorder();
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 1000 }, target), [envelope(0), envelope(-700)]);
    expect(steps.filter((s) => s[0] !== 'open')).toEqual([
      ['dispatch', 's1', -2, -700],
      ['close', 's1', -2],
      ['dispatch', 's1', 0, 0],
      ['close', 's1', 0],
    ]);
  });

  it('keeps streams independent: own epoch0, own watermark', async () => {
    const { steps, target } = recorder();
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 0 }, target), [envelope(0, 'a'), envelope(10_000, 'b'), envelope(400, 'a'), envelope(10_600, 'b')]);
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
    const { steps, target } = recorder();
    const month = 30 * 24 * 3600 * 1000;
    await feed(new SliceEngine({ sliceMs: 1, latenessMs: 0 }, target), [envelope(0), envelope(month)]);
    expect(steps.filter((s) => s[0] === 'close')).toEqual([['close', 's1', 0], ['close', 's1', month]]);
  });

  it('gives the same order when every target call is asynchronous', async () => {
    const events = () => [envelope(0), envelope(700), envelope(200), envelope(1300), envelope(2600), envelope(100, 'b')];
    const sync = recorder();
    const later = recorder(true);
    position = 0;
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 600 }, sync.target), events());
    position = 0;
    await feed(new SliceEngine({ sliceMs: 500, latenessMs: 600 }, later.target), events());
    expect(later.steps).toEqual(sync.steps);
  });
});
