import type { LiveCrewAppOptions } from '../../framework/assembly/assembly-options.js';
import { CrewHost } from '../../framework/assembly/crew-host.js';
import type { ModelCalls } from '../../framework/model-calls/model-calls.js';
import { runnerLimits } from '../../framework/config/limits.js';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import type { EmittedAction } from '../../framework/ports/sinks.js';
import { messages } from '../../framework/messages.js';
import { ConfigError } from '../../framework/errors.js';
import { CrewProgressSchema, CrewWorker, OUTPUT_AFTER_SAVE_MS, type CrewProgress, type ReceivedWork } from '../../framework/distributed/crew-worker.js';
import { RunnerGroups } from '../../framework/distributed/runner-groups.js';
import { CrewReports } from '../../framework/distributed/crew-reports.js';
import { MergedContextReplica } from '../../framework/distributed/merged-context-replica.js';
import type { CrewRuntime } from '../../framework/runtime/route-table.js';
import { encodeDone, readWork, takeReports, wireMessage } from './crew-work-wire.js';
import type { WireRefusals } from './wire-refusals.js';
import { crewOwner } from '../../framework/replay/decision-keys.js';
import { openDistributedRun, type DistributedRun, type DistributedRunOptions } from './distributed-run.js';
import { readStoredMessages, readSubject } from './jetstream-reading.js';
import { LIVE_STREAMS, liveSubject, reportSubject, workSubject } from './jetstream-streams.js';
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
    const groups = RunnerGroups.of(run.config, run.graph);
    const byGroup = new Map<string, CrewRuntime[]>();
    for (const crew of crews) {
      const group = groups.workGroupOf(crew.definition.id);
      byGroup.set(group, [...(byGroup.get(group) ?? []), crew]);
    }
    const shared = { models, actions, errors, replica, refusals };
    const served = await Promise.allSettled([...byGroup].map(([group, members]) => serveGroup(run, streamId, group, members, stopped, shared)));
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

/**
 * Runs the work of a work group's crews hosted here until the stream ends for them all or the
 * signal aborts: one reader of the group's messages hands each crew its items, and each crew runs
 * its own in order, in a lane of its own, so a slow crew holds up no other.
 */
async function serveGroup(run: DistributedRun, streamId: string, group: string, crews: readonly CrewRuntime[], signal: AbortSignal, shared: RunnerShared): Promise<void> {
  const workers = await Promise.all(crews.map((crew) => crewWorker(run, streamId, crew, shared)));
  const reading = new AbortController();
  const stop = () => reading.abort();
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  const lanes: ReadonlyMap<string, WorkLane> = new Map(workers.map((worker) => [worker.crewId, new WorkLane(worker, () => [...lanes.values()].every((lane) => lane.ended), stop)]));
  const fromSeq = Math.min(...workers.map((worker) => worker.resumeFrom));
  try {
    for await (const batch of readSubject(run.js, { stream: LIVE_STREAMS.slices.name, subject: workSubject(streamId, group), fromSeq, signal: reading.signal })) {
      for (const message of batch) {
        const read = readWork(wireMessage(message), run.config.payload_max_depth);
        if (read.refused !== undefined) shared.refusals.refuse(message.subject, message.seq, read.refused, 'skipped');
        else for (const work of read.work) lanes.get(work.crew)?.take({ work, seq: message.seq });
      }
      await Promise.all([...lanes.values()].map((lane) => lane.room()));
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  await Promise.all([...lanes.values()].map((lane) => lane.drained()));
  await Promise.all(workers.map((worker) => worker.settled()));
}

/**
 * How long before its progress record was stored a runner may have computed it: output stored
 * from then on may be newer than the record says (a save takes a round trip, longer while the
 * server is away).
 */
const PROGRESS_SAVE_MARGIN_MS = 10_000;

/**
 * A crew's worker for a stream, from the progress its last runner saved. That runner may have
 * stored output after its last save (it was killed between a publish and the save that counts
 * it), within OUTPUT_AFTER_SAVE_MS of the save: what was stored then is looked up by message id
 * and not published again, so nothing goes out twice even past JetStream's de-duplication
 * window. A crew without progress published nothing: a worker saves before its first output.
 */
async function crewWorker(run: DistributedRun, streamId: string, crew: CrewRuntime, { models, actions, errors, replica }: RunnerShared): Promise<CrewWorker> {
  const id = crew.definition.id;
  const key = `crew.${id}`;
  const saved = await run.bucket.get(key, CrewProgressSchema);
  if (saved?.refused !== undefined) run.logger.error({ crew: id, key }, messages.runStateIgnored(saved.refused, `crew ${id} starts without it, from the stream's first work`));
  const savedAt = saved?.storedAt.getTime();
  const stored =
    savedAt === undefined ? undefined : await storedOutputIds(run, streamId, new Date(savedAt - PROGRESS_SAVE_MARGIN_MS), new Date(savedAt + OUTPUT_AFTER_SAVE_MS + PROGRESS_SAVE_MARGIN_MS));
  const worker = new CrewWorker({
    crew,
    streamId,
    backend: run.backend,
    actions: stored === undefined ? actions : actions.unless(stored),
    errors: stored === undefined ? errors : errors.unless(stored),
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
  return worker;
}

/** The message ids of the stream's actions and error records the server stored between `since` and `until`. */
async function storedOutputIds(run: DistributedRun, streamId: string, since: Date, until: Date): Promise<Set<string>> {
  const read = (what: 'actions' | 'errors') => readStoredMessages(run.js, LIVE_STREAMS[what].name, liveSubject(streamId, what), { since, until, headersOnly: true });
  const [actions, errors] = await Promise.all([read('actions'), read('errors')]);
  return new Set([...actions, ...errors].map((message) => message.msgID));
}

/** How many of a crew's work items may wait in its lane before the group's reader waits for it. */
const MAX_QUEUED = 4096;

/**
 * One crew's work items as its group's reader hands them over, run in order, a batch at a time:
 * what arrives while a batch runs is the next batch. A crew that fails stops the reader.
 */
class WorkLane {
  readonly #worker: CrewWorker;
  readonly #ended: () => void;
  readonly #failed: () => void;
  #queued: ReceivedWork[] = [];
  #running: Promise<void> | undefined;
  #failure: unknown;

  /** @param allEnded - whether every lane of the group has ended; `stop` stops the reader */
  constructor(worker: CrewWorker, allEnded: () => boolean, stop: () => void) {
    this.#worker = worker;
    this.#ended = () => {
      if (allEnded()) stop();
    };
    this.#failed = stop;
  }

  /** Whether the stream ended for the crew. */
  get ended(): boolean {
    return this.#worker.ended;
  }

  take(work: ReceivedWork): void {
    if (this.#failure !== undefined || this.#worker.ended) return;
    this.#queued.push(work);
    this.#running ??= this.#run();
  }

  /** Resolves when the lane may take more. */
  async room(): Promise<void> {
    if (this.#queued.length > MAX_QUEUED) await this.#running;
  }

  /** Resolves when everything taken has run; rejects if the crew failed. */
  async drained(): Promise<void> {
    await this.#running;
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #run(): Promise<void> {
    try {
      while (this.#queued.length > 0 && !this.#worker.ended) {
        const batch = this.#queued;
        this.#queued = [];
        await this.#worker.handle(batch);
      }
      if (this.#worker.ended) this.#ended();
    } catch (error) {
      this.#failure = error;
      this.#failed();
    } finally {
      this.#running = undefined;
    }
  }
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
    const subject = reportSubject(this.#streamId, '*', '*');
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
