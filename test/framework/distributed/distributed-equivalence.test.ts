import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Crew, DependsOn, OnEvent, type CrewContext, type CrewSliceDone, type CrewWork, type Event } from '../../../src/index.js';
import { JsonlDecisionJournal, MemoryContextBackend } from '../../../src/embedded.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, createTestingApp } from '../../../src/testing.js';
import { resolveCrews } from '../../../src/framework/assembly/process-assembly.js';
import { EventDecoder } from '../../../src/framework/model/event.js';
import { inputLimits, runnerLimits } from '../../../src/framework/config/limits.js';
import { CrewWorker } from '../../../src/framework/distributed/crew-worker.js';
import type { SchedulerCheckpoint } from '../../../src/framework/distributed/scheduler-checkpoint.js';
import type { CommittedContext, ContextSnapshot } from '../../../src/framework/model/committed-context.js';
import { CrewReports } from '../../../src/framework/distributed/crew-reports.js';
import { MergedContextReplica } from '../../../src/framework/distributed/merged-context-replica.js';
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
  // What a successor would find: every report published, every commit, every checkpoint.
  const published: Array<{ readonly done: CrewSliceDone; readonly seq: number }> = [];
  const commits = new Map<number, CommittedContext>();
  const checkpoints: Array<{ readonly slice: number; readonly checkpoint: SchedulerCheckpoint }> = [];
  const queues = new Map<string, { worker: CrewWorker; done: Promise<void> }>();
  // Each crew on a runner of its own: its own reports and replica, every report published to all.
  const runners: MergedContextReplica[] = [];
  for (const crew of instantiateCrews(graph, rootContainer.createChildContainer())) {
    const replica = new MergedContextReplica({ streamId: 's1', crews: graph.crews, contextMaxBytes: config.context_max_bytes, reports: new CrewReports(), readReports: () => undefined });
    runners.push(replica);
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
      contextBefore: (base) => replica.before(base),
      report: async (done: CrewSliceDone) => {
        const seq = ++reports;
        // Published: the scheduler and the other runners read it a moment later.
        await new Promise((later) => setTimeout(later, 0));
        target!.receive(done, seq);
        for (const runner of runners) runner.receive(done, seq);
        published.push({ done, seq });
      },
      saveProgress: async () => undefined,
    });
    queues.set(crew.definition.id, { worker, done: Promise.resolve() });
  }
  let seq = 0;
  /** Calls that went out before the slices they start after were merged: their runner merged those itself. */
  let aheadOfMerge = 0;
  const work = {
    send(item: CrewWork) {
      const queue = queues.get(item.crew)!;
      const at = ++seq;
      if (item.type === 'call' && (item.base?.merges.length ?? 0) > 0) aheadOfMerge++;
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
    committed: (_stream, slice, checkpoint) => {
      commits.set(slice, backend.load('s1')!);
      checkpoints.push({ slice, checkpoint });
    },
    clock: systemClock,
  });
  const engine = new SliceEngine({ sliceMs: config.slice_ms, latenessMs: config.lateness_ms }, schedules, target, systemClock);
  const pipeline = new EventPipeline(new EventDecoder(inputLimits(config)), engine, output);
  await pipeline.run(new ArrayEventSource(events), noActions, errors, () => false);
  await target.settled();
  await Promise.all([...queues.values()].map((queue) => queue.done));
  return { actions: actions.actions, errors: errors.errors, context: (await backend.load('s1'))?.context, aheadOfMerge, published, commits, checkpoints };
}

/**
 * A successor scheduler taking over from a leader's checkpoint: it restores the engine, reads the
 * input after the checkpoint's position and every report the leader's runners published from the
 * checkpoint's sequence, and merges and commits the slices after it. Its work goes nowhere: the
 * runners reported those slices already.
 */
async function takeOver(events: readonly object[], crews: CrewClass[], leader: Awaited<ReturnType<typeof runDistributed>>, from: (typeof leader.checkpoints)[number]) {
  const { config, graph } = resolveCrews({ crews, config: CONFIG, configFile: false, env: {} });
  const { slice, checkpoint } = from;
  const engineState = checkpoint.engine!;
  const backend = new MemoryContextBackend();
  const committed = leader.commits.get(slice)!;
  backend.commit('s1', committed.slice, committed.context, { epoch0: committed.epoch0!, position: committed.position! });
  const commits = new Map<number, ContextSnapshot>();
  const output = new OutputBuffer();
  const schedules = scheduleCrews(graph.crews);
  const target = new DistributedSliceTarget({
    crews: schedules,
    backend,
    // Stored as JetStream stores them, a turn of the event loop later: the reports the leader's
    // runners published are all here, so merges go on while the successor's sends are under way.
    work: { send: () => new Promise<void>((stored) => setImmediate(stored)), flush: () => new Promise<void>((stored) => setImmediate(stored)) },
    output,
    contextMaxBytes: config.context_max_bytes,
    flushOutput: async () => undefined,
    position: () => 0,
    committed: (_stream, merged) => void commits.set(merged, backend.load('s1')!.context),
    clock: systemClock,
    resume: () => checkpoint,
  });
  for (const { done, seq } of leader.published) if (seq >= checkpoint.reportsFrom) target.receive(done, seq);
  const engine = new SliceEngine({ sliceMs: config.slice_ms, latenessMs: config.lateness_ms }, schedules, target, systemClock);
  await engine.restore(engineState);
  const after = events.slice(engineState.position + 1).map((value, i) => ({ value, position: engineState.position + 1 + i }));
  const source = {
    batches: async function* () {
      yield { origin: { name: 'input', locate: (i: number) => `input[${i}]` }, records: after };
    },
    close: async () => undefined,
  };
  const noActions = { write: () => undefined, close: async () => undefined };
  await new EventPipeline(new EventDecoder(inputLimits(config)), engine, output).run(source, noActions, noActions, () => false);
  await target.settled();
  return commits;
}

const byKind = (actions: readonly { kind: string }[], kind: string) => actions.filter((action) => action.kind === kind);

describe('the distributed slice target', () => {
  it('gives the in-process output for any input: actions (each crew in order), errors, merged context', async () => {
    const app = await createTestingApp({ crews: CREWS, config: CONFIG });
    const reasons = new Set<string>();
    let aheadOfMerge = 0;
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
        aheadOfMerge += distributed.aheadOfMerge;
      }),
      { numRuns: 80, seed: 20261125 },
    );
    // The inputs exercised every way a slice can go wrong, not only the happy path.
    expect([...reasons].sort()).toEqual(['ctx_size', 'dependency_unmet', 'disabled', 'handler_error', 'late_event']);
    // Slices were pipelined: calls went out before the slice before them was merged.
    expect(aheadOfMerge).toBeGreaterThan(0);
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

describe('a successor scheduler', () => {
  it("merges and commits every slice after the leader's checkpoint as the leader did, a lagging crew's earlier work included", async () => {
    let lagged = 0;
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.nat(), async (events, pick) => {
        const leader = await runDistributed(events, LAGGING_CREWS);
        const usable = leader.checkpoints.filter(({ checkpoint }) => checkpoint.engine !== undefined);
        fc.pre(usable.length > 0);
        const from = usable[pick % usable.length]!;
        if (Object.keys(from.checkpoint.lagging ?? {}).length > 0) lagged++;
        const successor = await takeOver(events, LAGGING_CREWS, leader, from);
        for (const [slice, snapshot] of successor) expect(snapshot, `slice ${slice}`).toStrictEqual(leader.commits.get(slice)!.context);
        expect([...successor.keys()]).toEqual([...leader.commits.keys()].filter((slice) => slice > from.slice));
      }),
      { numRuns: 60, seed: 20261130 },
    );
    // Some takeovers came while the lagging crew's work of slices before the checkpoint had not merged.
    expect(lagged).toBeGreaterThan(0);
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
    const engine = new SliceEngine({ sliceMs: config.slice_ms, latenessMs: 0 }, schedules, target, systemClock);
    const pipeline = new EventPipeline(new EventDecoder(inputLimits(config)), engine, output);
    const noActions = { write: () => undefined, close: async () => undefined };
    const running = pipeline.run(new ArrayEventSource([{ ts: new Date(T0).toISOString(), kind: 'c', stream_id: 's1', payload: { v: 1 } }]), noActions, noActions, () => false);
    while (stalls.length < 4) await new Promise((done) => setTimeout(done, 10));
    // The merge waits on every crew that got work; the engine, for the ones a dependency looks at.
    expect(stalls).toContainEqual({ slice: 0, crews: ['follower', 'fragile', 'sampler', 'tally'] });
    expect(stalls).toContainEqual({ slice: 0, crews: ['fragile', 'tally'] });
    target.cancel(new Error('stopping'));
    await expect(running).rejects.toThrow('stopping');
  });
});
