import { hostname } from 'node:os';
import { EventDecoder } from '../../framework/model/event.js';
import { sliceTiming } from '../../framework/assembly/slice-timing.js';
import { inputLimits } from '../../framework/config/limits.js';
import type { ActionSink } from '../../framework/ports/sinks.js';
import { messages } from '../../framework/messages.js';
import { EventPipeline } from '../../framework/runtime/event-pipeline.js';
import { OutputBuffer } from '../../framework/runtime/output-buffer.js';
import { scheduleCrews } from '../../framework/scheduler/crew-schedule.js';
import { DistributedSliceTarget } from '../../framework/distributed/distributed-slice-target.js';
import { StoredSchedulerCheckpointSchema } from '../../framework/distributed/scheduler-checkpoint.js';
import { SliceEngine } from '../../framework/scheduler/slice-engine.js';
import { RunnerGroups } from '../../framework/distributed/runner-groups.js';
import { takeReports } from './crew-work-wire.js';
import { SCHEDULER_OWNER } from '../../framework/replay/decision-keys.js';
import { openDistributedRun, type DistributedRun, type DistributedRunOptions } from './distributed-run.js';
import { JetStreamCrewWorkSink } from './jetstream-crew-work-sink.js';
import { readSubject } from './jetstream-reading.js';
import { JetStreamReplaySource } from './jetstream-replay-source.js';
import { watchRunners } from './runner-heartbeats.js';
import { NatsContextBroadcast } from './context-broadcast.js';
import { LIVE_STREAMS, reportSubject } from './jetstream-streams.js';
import { JetStreamSink } from './jetstream-transport.js';
import { SchedulerLease } from './scheduler-lease.js';
import { describeThrown } from '../../framework/describe-thrown.js';

const CHECKPOINT_KEY = 'scheduler.checkpoint';

/** How a scheduler's run ended. */
export type SchedulerOutcome =
  /** The stream's input ended (its end-of-stream marker) and every slice is committed. */
  | 'finished'
  /** Stopped (`signal`) before the end; a standby, or the next start, goes on. */
  | 'stopped'
  /** Another scheduler took the lease (this one was cut off too long): it goes on. */
  | 'lost-lease';

/** Options of `runDistributedScheduler`. */
export interface DistributedSchedulerOptions extends DistributedRunOptions {
  /** A name for this process in the lease, shown to standbys. Default `<host>:<pid>`. */
  readonly holder?: string;
}

/**
 * The scheduler of one stream in a distributed run (DESIGN §5). It waits for the stream's lease
 * (a standby waits here), then reads the stream's events, runs the slice engine on them exactly
 * as in process, and sends its crews' calls to `live.<stream>.work.<group>` for the runners of
 * each work group (DESIGN §5 amendments); the runners' reports are merged into the context, slice by slice.
 *
 * Every `checkpoint_slices` committed slices it stores a checkpoint (`scheduler.checkpoint` in
 * the run's bucket): the engine's state, the input position and report sequence to read on
 * from. A successor restores it and reads from there, so a takeover costs the same at any point
 * of a stream, and retention may drop what came before. It takes the same decisions; what is
 * committed is not sent again. Without a checkpoint it reads the stream from its first event.
 *
 * The scheduler runs in live mode: wall time closes the slices of an idle stream. Its
 * wall-clock decisions (ticks that close slices, `timeout:<ms>` waits) are journaled in
 * JetStream for a successor.
 */
export async function runDistributedScheduler(options: DistributedSchedulerOptions): Promise<SchedulerOutcome> {
  const run = await openDistributedRun(options, 'scheduler', () => [SCHEDULER_OWNER]);
  const signal = options.signal ?? new AbortController().signal;
  const logger = run.logger;
  const lease = new SchedulerLease(run.bucket, options.holder ?? `${hostname()}:${process.pid}`, run.config.lease_ms, run.clock, logger);
  try {
    const leading = await lease.acquire(signal, (holder) => logger.info({ holder }, messages.schedulerStandby(options.streamId, holder)));
    if (!leading) return 'stopped';
    // A standby opened the journal long ago: what its predecessor decided since is repeated too.
    await run.catchUpJournal();
    logger.info({}, messages.schedulingStream(options.streamId));
    const stopWatching = watchRunners(run, options.streamId);
    const stopping = new AbortController();
    let lost = false;
    const onAbort = () => stopping.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    lease.keep(() => {
      logger.warn({}, messages.leaseLost(options.streamId));
      lost = true;
      stopping.abort();
    });
    try {
      const scheduled = await scheduleStream(run, options.streamId, stopping.signal);
      return lost ? 'lost-lease' : scheduled.outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      stopWatching();
    }
  } finally {
    await lease.release();
    await run.close();
  }
}

/** How `scheduleStream` ended, and the input position it reached. */
export interface ScheduledStream {
  readonly outcome: 'finished' | 'stopped';
  /** The position of the last input message read. */
  readonly position: number;
}

/**
 * Schedules one stream whose lease the caller holds, until its input ends (`finished`) or
 * `signal` aborts (`stopped`): from its checkpoint, live, its crews' work sent to their runners
 * and their reports merged. `watch` is given the input position as the run starts and returns
 * its own stop (a pool worker watches for an idle stream with it).
 */
export async function scheduleStream(run: DistributedRun, streamId: string, signal: AbortSignal, watch?: (position: () => number) => () => void): Promise<ScheduledStream> {
  const { config, graph, logger, monitor } = run;
  const checkpoint = await run.bucket.get(CHECKPOINT_KEY, StoredSchedulerCheckpointSchema);
  if (checkpoint?.refused !== undefined) logger.error({ key: CHECKPOINT_KEY }, messages.runStateIgnored(checkpoint.refused, 'going on without it: the stream is read from its first event'));
  const stored = checkpoint?.value;
  let lastCheckpoint = stored?.slice;
  let lastCommitted = stored?.slice ?? -1;
  const output = new OutputBuffer(monitor);
  const errors = JetStreamSink.forErrors(run.link);
  const noActions: ActionSink = { write: () => undefined, close: async () => undefined };
  const schedules = scheduleCrews(graph.crews, config.eager_dispatch);
  const contextOut = new NatsContextBroadcast(run.link);
  const groups = RunnerGroups.of(config, graph);
  const work = new JetStreamCrewWorkSink(run.publisher, (crew) => groups.workGroupOf(crew));
  const target = new DistributedSliceTarget({
    contextOut,
    crews: schedules,
    backend: run.backend,
    work,
    output,
    contextMaxBytes: config.context_max_bytes,
    observer: monitor,
    clock: run.clock,
    stalled: (stream, slice, crews, waitedMs) => {
      const { reportsReadTo, merged } = target.progressOf(stream);
      logger.warn({ slice, crews, t_ms: waitedMs, reports_read_to: reportsReadTo, merged }, messages.sliceWaitsForReports(slice, crews));
    },
    flushOutput: () => output.flush(noActions, errors),
    position: (): number => pipeline.resumePosition,
    // Written after its slice's commit, in order, every checkpoint_slices slices (and when one
    // could not be taken, at the next slice); a successor resuming from an older one reads more
    // and repeats error records the server de-duplicates.
    committed: (_stream, slice, checkpoint) => {
      lastCommitted = slice;
      if (checkpoint.engine === undefined || (lastCheckpoint !== undefined && slice - lastCheckpoint < config.checkpoint_slices)) return;
      lastCheckpoint = slice;
      return run.bucket.put(CHECKPOINT_KEY, { slice, ...checkpoint }).catch((error: unknown) => logger.warn({ slice }, messages.checkpointNotWritten(describeThrown(error))));
    },
    resume: () => stored,
  });
  // Live, for its one stream: a stream it forgot as idle would come back from the backend, not from the journal and reports a successor replays.
  const timing = sliceTiming({ ...config, mode: 'live', stream_idle_ms: null }, 1);
  const engine = new SliceEngine(timing, schedules, target, run.clock, run.journal);
  const pipeline = new EventPipeline(new EventDecoder(inputLimits(config)), engine, output, { quietBefore: stored?.quietBefore, observer: monitor });
  const from = stored?.engine;
  if (from !== undefined) {
    const firstSeq = (await (await run.js.jetstreamManager()).streams.info(LIVE_STREAMS.events.name)).state.first_seq;
    if (firstSeq > from.position + 1) logger.error({ slice: from.slice, position: from.position, first_seq: firstSeq }, messages.checkpointInputGone(streamId, from.position + 1, firstSeq));
    await engine.restore(from);
    logger.info({ slice: from.slice, position: from.position }, messages.resumingFromCheckpoint(streamId, from.slice, from.position));
  }
  const source = new JetStreamReplaySource(run.js, streamId, from !== undefined ? from.position + 1 : 1);

  let outcome: ScheduledStream['outcome'] = 'finished';
  const stop = () => {
    if (outcome !== 'finished') return;
    outcome = 'stopped';
    pipeline.abandon();
    target.cancel(new Error(`scheduler of stream ${streamId} stopped`));
    void source.close();
  };
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  const stopWatching = watch?.(() => pipeline.resumePosition) ?? (() => undefined);

  const reports = new AbortController();
  const refusals = run.refusals;
  const crewIds = new Set(graph.crews.map((crew) => crew.id));
  const reading = (async () => {
    const subject = reportSubject(streamId, '*', '*');
    for await (const batch of readSubject(run.js, { stream: LIVE_STREAMS.slices.name, subject, fromSeq: stored?.reportsFrom ?? 1, signal: reports.signal })) {
      takeReports(batch, crewIds, config.payload_max_depth, refusals, (done, seq) => target.receive(done, seq));
    }
  })();
  try {
    await pipeline.run(source, noActions, errors, () => false, { clock: run.clock, intervalMs: Math.max(1, config.slice_ms / 4) });
    await target.settled();
  } catch (error) {
    // Stopping cancels a slice waiting on reports; only a failure of a run going on is one.
    if (outcome === 'finished') throw error;
  } finally {
    signal.removeEventListener('abort', stop);
    stopWatching();
    reports.abort();
    // A stopping scheduler still commits what it merged: less for its successor to redo.
    await Promise.all([reading, target.settled().catch(() => undefined)]);
    await Promise.all([errors.close(), contextOut.close()]);
  }
  if (outcome === 'finished') {
    // Each crew's runners stop reading its work here: there is no more.
    for (const crew of graph.crews) await work.send({ type: 'end', streamId, slice: lastCommitted + 1, crew: crew.id });
    await work.flush();
    logger.info({ events: pipeline.counts.accepted }, messages.streamInputEnded(streamId));
  }
  return { outcome, position: pipeline.resumePosition };
}
