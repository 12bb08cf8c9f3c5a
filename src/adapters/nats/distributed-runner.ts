import type { LiveCrewAppOptions } from '../../framework/assembly/assembly-options.js';
import { CrewHost } from '../../framework/assembly/crew-host.js';
import type { ModelCalls } from '../../framework/model-calls/model-calls.js';
import { runnerLimits } from '../../framework/config/limits.js';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import type { EmittedAction } from '../../framework/ports/sinks.js';
import { messages } from '../../framework/messages.js';
import { ConfigError } from '../../framework/errors.js';
import { CrewProgressSchema, CrewWorker, type CrewProgress } from '../../framework/distributed/crew-worker.js';
import { CrewReports } from '../../framework/distributed/crew-reports.js';
import { MergedContextReplica } from '../../framework/distributed/merged-context-replica.js';
import type { CrewRuntime } from '../../framework/runtime/route-table.js';
import { encodeDone, readWork, takeReports, wireMessage } from './crew-work-wire.js';
import type { WireRefusals } from './wire-refusals.js';
import { crewOwner } from '../../framework/replay/decision-keys.js';
import { openDistributedRun, type DistributedRun, type DistributedRunOptions } from './distributed-run.js';
import { readSubject } from './jetstream-reading.js';
import { LIVE_STREAMS, sliceSubject } from './jetstream-streams.js';
import { JetStreamSink } from './jetstream-transport.js';

/** Options of `runDistributedRunner`. */
export interface DistributedRunnerOptions extends DistributedRunOptions, Pick<LiveCrewAppOptions, 'interceptors' | 'models' | 'embedders'> {
  /** Which crews this runner hosts: those whose id the pattern matches (`LIVE_CREW_SELECTOR`). */
  readonly selector: RegExp;
}

/**
 * A runner of a distributed run (DESIGN §5): hosts the crews whose ids match the selector and,
 * for each, runs the work the scheduler sends it, publishes its actions to
 * `live.<stream>.actions`, and reports each finished slice. Each crew resumes where its progress
 * (KV `crew.<id>`) says, so a runner killed at any point is replaced without a lost or repeated
 * action. Runs until the stream ends (its input ended and every slice is committed: the scheduler
 * says so to each crew) or `signal` aborts.
 *
 * @throws ConfigError when the selector matches no crew
 */
export async function runDistributedRunner(options: DistributedRunnerOptions): Promise<void> {
  const run = await openDistributedRun(options, `runner ${options.selector}`, (graph) => graph.crews.filter((crew) => options.selector.test(crew.id)).map((crew) => crewOwner(crew.id)));
  try {
    const host = await CrewHost.open(run, run.journal, {
      ...options,
      hosted: (id) => options.selector.test(id),
      hostsNone: (graph) => new ConfigError(messages.selectorMatchesNoCrew(String(options.selector), graph.crews.map((crew) => crew.id).join(', '))),
    });
    const { crews, models } = host;
    run.logger.info(
      { crews: crews.map((crew) => crew.definition.id) },
      messages.runnerHosting(
        options.streamId,
        crews.map((crew) => crew.definition.id),
      ),
    );
    const backend = run.config.vector?.backend;
    if (backend === 'memory' || backend === 'pglite') run.logger.warn({ backend }, messages.vectorStorePerProcess(backend));
    try {
      await host.start();
      await serveStreamCrews(run, options.streamId, crews, models, options.signal);
      if (!options.signal?.aborted) run.logger.info({}, messages.runnerStreamEnded(options.streamId));
    } finally {
      await host.stop();
      await host.close();
    }
  } finally {
    await run.close();
  }
}

/**
 * Runs the work of `crews` for one stream until the stream ends (the scheduler says so to each
 * crew) or `signal` aborts: what a runner does for its stream, and a pool member for each stream
 * it owns. Each crew goes on from its progress in the stream's run bucket.
 */
export async function serveStreamCrews(run: DistributedRun, streamId: string, crews: readonly CrewRuntime[], models: ModelCalls, signal: AbortSignal | undefined): Promise<void> {
  const actions = JetStreamSink.forActions(run.link);
  const errors = JetStreamSink.forErrors(run.link);
  const replica: MergedContextReplica = new MergedContextReplica({
    streamId,
    crews: run.graph.crews,
    contextMaxBytes: run.config.context_max_bytes,
    reports: new CrewReports(),
    readReports: (from, again) => reader.read(from, again),
    stopReading: () => reader.stop(),
    stalled: {
      clock: run.clock,
      afterMs: 10_000,
      stalled: (slice, missing, waitedMs) => run.logger.warn({ slice, missing, t_ms: waitedMs }, messages.runnerWaitsForReports(slice, missing)),
    },
  });
  const refusals = run.refusals;
  const reader = new ReportReader(run, streamId, replica, refusals);
  const stopped = signal ?? new AbortController().signal;
  // A crew waiting for the merge its next slice starts from would wait for good once the
  // stream's scheduler stops too (a pool hands the stream over): stopping ends the wait.
  const cancel = () => replica.cancel(new Error(`stopped serving stream ${streamId}`));
  stopped.addEventListener('abort', cancel, { once: true });
  if (stopped.aborted) cancel();
  try {
    const served = await Promise.allSettled(crews.map((crew) => work(run, streamId, stopped, crew, { models, actions, errors, replica, refusals })));
    const failed = served.find((outcome) => outcome.status === 'rejected');
    // What a stop cut short is left to the crews' progress: the next owner goes on from there.
    if (failed !== undefined && !stopped.aborted) throw failed.reason;
  } finally {
    stopped.removeEventListener('abort', cancel);
    await Promise.all([actions.close(), errors.close(), reader.close()]);
  }
}

/** What the crews a runner hosts share. */
interface RunnerShared {
  readonly models: ModelCalls;
  readonly actions: JetStreamSink<EmittedAction>;
  readonly errors: JetStreamSink<ErrorRecord>;
  /** Merges slices from every crew's reports: this runner's as it makes them, the others' as they are read. */
  readonly replica: MergedContextReplica;
  /** Logs each message refused on the wire once. */
  readonly refusals: WireRefusals;
}

/** Runs one crew's work until the stream ends or the signal aborts. */
async function work(run: DistributedRun, streamId: string, signal: AbortSignal, crew: CrewRuntime, { models, actions, errors, replica, refusals }: RunnerShared): Promise<void> {
  const id = crew.definition.id;
  const key = `crew.${id}`;
  const saved = await run.bucket.get(key, CrewProgressSchema);
  if (saved?.refused !== undefined) run.logger.error({ crew: id, key }, messages.runStateIgnored(saved.refused, `crew ${id} starts without it, from the stream's first work`));
  const worker = new CrewWorker({
    crew,
    streamId,
    backend: run.backend,
    actions,
    errors,
    limits: runnerLimits(run.config),
    journal: run.journal,
    clock: run.clock,
    models,
    observer: run.monitor,
    progress: saved?.value satisfies CrewProgress | undefined,
    contextBefore: (base) => replica.before(base),
    report: (done) => {
      replica.receive(done);
      return run.publisher.publishInOrder([encodeDone(done, run.name)]);
    },
    saveProgress: (progress) => run.bucket.put(key, progress),
  });
  const subject = sliceSubject(streamId, '*', id, 'ready');
  for await (const batch of readSubject(run.js, { stream: LIVE_STREAMS.slices.name, subject, fromSeq: worker.resumeAfter + 1, signal })) {
    await worker.handle(
      batch.flatMap((message) => {
        const read = readWork(wireMessage(message), run.config.payload_max_depth);
        if (read.refused === undefined) return read.work.map((work) => ({ work, seq: message.seq }));
        refusals.refuse(message.subject, message.seq, read.refused, 'skipped');
        return [];
      }),
    );
    if (worker.ended) break;
  }
  await worker.settled();
}

/**
 * Reads the stream's slice reports (`live.<stream>.slice.*.*.done`) into the replica, for its
 * merges: from the sequence the first base names, and again from an earlier one when the
 * replica asks.
 */
class ReportReader {
  readonly #run: DistributedRun;
  readonly #streamId: string;
  readonly #replica: MergedContextReplica;
  readonly #refusals: WireRefusals;
  readonly #crewIds: ReadonlySet<string>;
  #from: number | undefined;
  #stop = new AbortController();
  #reading: Promise<void> = Promise.resolve();

  constructor(run: DistributedRun, streamId: string, replica: MergedContextReplica, refusals: WireRefusals) {
    this.#run = run;
    this.#streamId = streamId;
    this.#replica = replica;
    this.#refusals = refusals;
    this.#crewIds = new Set(run.graph.crews.map((crew) => crew.id));
  }

  /** Makes sure reports from sequence `from` on are read; `again` reads them again even if they were. */
  read(from: number, again: boolean): void {
    if (this.#from !== undefined && from >= this.#from && !again) return;
    this.#stop.abort();
    const stop = new AbortController();
    this.#stop = stop;
    this.#from = from;
    const subject = sliceSubject(this.#streamId, '*', '*', 'done');
    this.#reading = this.#reading.then(async () => {
      try {
        for await (const batch of readSubject(this.#run.js, { stream: LIVE_STREAMS.slices.name, subject, fromSeq: from, signal: stop.signal })) {
          takeReports(batch, this.#crewIds, this.#run.config.payload_max_depth, this.#refusals, (done, seq) => this.#replica.receive(done, seq));
        }
      } catch (error) {
        // A report that cannot be read fails the crews waiting on the merge it belongs to.
        this.#replica.cancel(error as Error);
      }
    });
  }

  /** Stops reading until `read` is called again, from the sequence it names. */
  stop(): void {
    this.#stop.abort();
    this.#from = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await this.#reading;
  }
}
