import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Crew, DependsOn, OnEvent, type CrewContext, type CrewSliceDone, type CrewWork, type Event } from '../../../src/index.js';
import { JsonlDecisionJournal, MemoryContextBackend } from '../../../src/embedded.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, createTestingApp } from '../../../src/testing.js';
import { resolveCrews } from '../../../src/framework/app.js';
import { EventDecoder } from '../../../src/framework/model/event.js';
import { inputLimits, runnerLimits } from '../../../src/framework/config/limits.js';
import { CrewWorker } from '../../../src/framework/distributed/crew-worker.js';
import { EventPipeline } from '../../../src/framework/runtime/event-pipeline.js';
import { instantiateCrews } from '../../../src/framework/runtime/instantiate-crews.js';
import { OutputBuffer } from '../../../src/framework/runtime/output-buffer.js';
import { scheduleCrews } from '../../../src/framework/scheduler/crew-schedule.js';
import { DistributedSliceTarget } from '../../../src/framework/distributed/distributed-slice-target.js';
import { SliceEngine } from '../../../src/framework/scheduler/slice-engine.js';
import { systemClock } from '../../../src/framework/system-clock.js';
import type { CrewClass } from '../../../src/framework/discovery/crew-definition.js';

// The distributed scheduler drives the same slice engine as the in-process app, but runs crews
// through work items and reports (DESIGN §5). Wired in memory here, with each crew's work run
// asynchronously as a runner would, it must give the in-process output for any input.

const T0 = Date.parse('2024-05-01T12:00:00Z');
type Payload = { v: number };

@Crew({ id: 'tally' })
class Tally {
  @OnEvent('*')
  on(event: Event<Payload>, ctx: CrewContext): void {
    const count = (ctx.context.get<number>(`n_${event.kind}`) ?? 0) + 1;
    ctx.context.set(`n_${event.kind}`, count);
    if (event.payload.v % 7 === 0) ctx.context.delete('last');
    else ctx.context.set('last', event.payload.v);
    ctx.emit('tallied', { kind: event.kind, count });
  }
}

@Crew({ id: 'echo' })
@DependsOn({ crew: 'tally', offset: 0 })
class Echo {
  @OnEvent(['a', 'b'])
  on(_event: Event, ctx: CrewContext): void {
    ctx.context.set('last', 'echo');
    ctx.emit('echoed', { a: ctx.context.get('n_a') ?? 0, last: ctx.context.get('last') ?? null });
  }
}

@Crew({ id: 'fragile', maxErrors: 2 })
class Fragile {
  @OnEvent('c')
  on(event: Event<Payload>, ctx: CrewContext): void {
    if (event.payload.v > 60) throw new Error(`too big: ${event.payload.v}`);
    ctx.emit('fine', { v: event.payload.v });
  }
}

@Crew({ id: 'follower' })
@DependsOn({ crew: 'fragile', offset: -1 })
class Follower {
  @OnEvent('c')
  on(event: Event<Payload>, ctx: CrewContext): void {
    ctx.emit('followed', { v: event.payload.v, last: ctx.context.get('last') ?? null });
  }
}

@Crew({ id: 'sampler', sliceStride: 2, backlogPolicy: 'latest' })
class Sampler {
  @OnEvent(['a', 'c'])
  on(event: Event<Payload>, ctx: CrewContext): void {
    ctx.context.set(`big_${event.payload.v % 5}`, 'x'.repeat(40));
    ctx.emit('sampled', { slice: ctx.slice, v: event.payload.v });
  }
}

/** Lags two slices and takes a few ms per call, failing on some. */
@Crew({ id: 'chronicle', lag: 2, maxErrors: 4 })
class Chronicle {
  @OnEvent(['b', 'c'])
  async on(event: Event<Payload>, ctx: CrewContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, (event.payload.v * 7) % 4));
    if (event.payload.v % 13 === 0) throw new Error(`unlucky ${event.payload.v}`);
    const chronicled = (ctx.context.get<number>('chronicled') ?? 0) + 1;
    ctx.context.set('chronicled', chronicled);
    ctx.emit('chronicle', { chronicled, a: ctx.context.get('n_a') ?? 0 });
  }
}

/** Waits for the lagging crew (offset -1 is inside its lag), and reads what of it has merged. */
@Crew({ id: 'reviewer' })
@DependsOn({ crew: 'chronicle', offset: -1 })
class Reviewer {
  @OnEvent('a')
  on(_event: Event, ctx: CrewContext): void {
    ctx.emit('reviewed', { chronicled: ctx.context.get('chronicled') ?? 0 });
  }
}

const CREWS: CrewClass[] = [Tally, Echo, Fragile, Follower, Sampler];
const LAGGING_CREWS: CrewClass[] = [...CREWS, Chronicle, Reviewer];
const CONFIG = { slice_ms: 500, lateness_ms: 300, context_max_bytes: 220 };

/** One stream's events, mostly in time order: gaps up to 1.2 slices, some steps back (late or within lateness). */
const eventsArb = fc
  .array(fc.record({ step: fc.integer({ min: -500, max: 600 }), kind: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 99 }) }), { minLength: 1, maxLength: 40 })
  .map((items) => {
    let ts = T0;
    return items.map(({ step, kind, v }) => {
      ts += step;
      return { ts: new Date(ts).toISOString(), kind, stream_id: 's1', payload: { v } };
    });
  });

/** Runs the crews the distributed way, in memory: one `CrewWorker` per crew, each running its work on its own queue. */
async function runDistributed(events: readonly object[], crews = CREWS) {
  const { config, graph } = resolveCrews({ crews, config: CONFIG, configFile: false, env: {} });
  const backend = new MemoryContextBackend();
  const actions = new CollectingActionSink();
  const errors = new CollectingErrorSink();
  const journal = new JsonlDecisionJournal();
  const output = new OutputBuffer();
  let target: DistributedSliceTarget | undefined;
  let reports = 0;
  const queues = new Map<string, { worker: CrewWorker; done: Promise<void> }>();
  for (const crew of instantiateCrews(graph, rootContainer.createChildContainer())) {
    const worker = new CrewWorker({
      crew,
      streamId: 's1',
      backend,
      actions,
      errors,
      limits: runnerLimits(config),
      journal,
      clock: systemClock,
      progress: undefined,
      report: async (done: CrewSliceDone) => target!.receive(done, ++reports),
      saveProgress: async () => undefined,
    });
    queues.set(crew.definition.id, { worker, done: Promise.resolve() });
  }
  let seq = 0;
  const work = {
    send(item: CrewWork) {
      const queue = queues.get(item.crew)!;
      const at = ++seq;
      queue.done = queue.done.then(() => new Promise((later) => setTimeout(later, 0))).then(() => queue.worker.handle([{ work: item, seq: at }]));
      return undefined;
    },
    flush: async () => undefined,
  };
  const schedules = scheduleCrews(graph.crews);
  const noActions = { write: () => undefined, close: async () => undefined };
  target = new DistributedSliceTarget({
    crews: schedules,
    backend,
    work,
    output,
    contextMaxBytes: config.context_max_bytes,
    flushOutput: () => output.flush(noActions, errors),
    position: () => 0,
    committed: () => undefined,
    clock: systemClock,
  });
  const engine = new SliceEngine({ sliceMs: config.slice_ms, latenessMs: config.lateness_ms }, schedules, target);
  const pipeline = new EventPipeline(new EventDecoder(inputLimits(config)), engine, output);
  await pipeline.run(new ArrayEventSource(events), noActions, errors, () => false);
  await target.settled();
  await Promise.all([...queues.values()].map((queue) => queue.done));
  return { actions: actions.actions, errors: errors.errors, context: (await backend.load('s1'))?.context };
}

const byKind = (actions: readonly { kind: string }[], kind: string) => actions.filter((action) => action.kind === kind);

describe('the distributed slice target', () => {
  it('gives the in-process output for any input: actions (each crew in order), errors, merged context', async () => {
    const app = await createTestingApp({ crews: CREWS, config: CONFIG });
    const reasons = new Set<string>();
    await fc.assert(
      fc.asyncProperty(eventsArb, async (events) => {
        const inProcess = await app.run(events);
        const distributed = await runDistributed(events);
        const sorted = (items: readonly unknown[]) => items.map((item) => JSON.stringify(item)).sort();
        expect(sorted(distributed.actions)).toEqual(sorted(inProcess.actions));
        for (const kind of ['tallied', 'echoed', 'fine', 'followed', 'sampled']) {
          expect(byKind(distributed.actions, kind)).toEqual(byKind(inProcess.actions, kind));
        }
        expect(sorted(distributed.errors)).toEqual(sorted(inProcess.errors));
        expect(distributed.context).toStrictEqual(inProcess.context('s1'));
        for (const error of distributed.errors) reasons.add(error.payload.reason);
      }),
      { numRuns: 80, seed: 20261125 },
    );
    // The inputs exercised every way a slice can go wrong, not only the happy path.
    expect([...reasons].sort()).toEqual(['ctx_size', 'dependency_unmet', 'disabled', 'handler_error', 'late_event']);
  });
});

describe('the distributed slice target, with a lagging crew whose calls take time', () => {
  it("gives the in-process output: the lagging crew's writes merge at n + lag, its dependent waits for it", async () => {
    const app = await createTestingApp({ crews: LAGGING_CREWS, config: CONFIG });
    await fc.assert(
      fc.asyncProperty(eventsArb, async (events) => {
        const inProcess = await app.run(events);
        const distributed = await runDistributed(events, LAGGING_CREWS);
        const sorted = (items: readonly unknown[]) => items.map((item) => JSON.stringify(item)).sort();
        expect(sorted(distributed.actions)).toEqual(sorted(inProcess.actions));
        for (const kind of ['tallied', 'echoed', 'fine', 'followed', 'sampled', 'chronicle', 'reviewed']) {
          expect(byKind(distributed.actions, kind)).toEqual(byKind(inProcess.actions, kind));
        }
        expect(sorted(distributed.errors)).toEqual(sorted(inProcess.errors));
        expect(distributed.context).toStrictEqual(inProcess.context('s1'));
      }),
      { numRuns: 40, seed: 20261129 },
    );
  });
});

describe('the distributed slice target, waiting on runners', () => {
  it('tells which crews a slice still waits on, until they report or the scheduler stops', async () => {
    const { config, graph } = resolveCrews({ crews: CREWS, config: CONFIG, configFile: false, env: {} });
    const schedules = scheduleCrews(graph.crews);
    const stalls: Array<{ slice: number; crews: readonly string[] }> = [];
    const output = new OutputBuffer();
    const target = new DistributedSliceTarget({
      crews: schedules,
      backend: new MemoryContextBackend(),
      // No runner: work goes nowhere.
      work: { send: () => undefined, flush: async () => undefined },
      output,
      contextMaxBytes: config.context_max_bytes,
      flushOutput: async () => undefined,
      position: () => 0,
      committed: () => undefined,
      stalled: (_stream, slice, crews) => void stalls.push({ slice, crews }),
      stalledAfterMs: 20,
      clock: systemClock,
    });
    const engine = new SliceEngine({ sliceMs: config.slice_ms, latenessMs: 0 }, schedules, target);
    const pipeline = new EventPipeline(new EventDecoder(inputLimits(config)), engine, output);
    const noActions = { write: () => undefined, close: async () => undefined };
    const running = pipeline.run(new ArrayEventSource([{ ts: new Date(T0).toISOString(), kind: 'c', stream_id: 's1', payload: { v: 1 } }]), noActions, noActions, () => false);
    while (stalls.length < 2) await new Promise((done) => setTimeout(done, 10));
    expect(stalls[0]).toEqual({ slice: 0, crews: ['follower', 'fragile', 'sampler', 'tally'] });
    target.cancel(new Error('stopping'));
    await expect(running).rejects.toThrow('stopping');
  });
});
