import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DependencyContainer } from 'tsyringe';
import { inProcessRun, type InProcessRunParts } from '../../framework/assembly/in-process-run.js';
import type { RunTotals } from '../../framework/assembly/run-summary.js';
import type { Logger } from '../../framework/ports/logger.js';
import type { DecisionJournal } from '../../framework/ports/decision-journal.js';
import { crewOwner, SCHEDULER_OWNER, type DecisionOwner } from '../../framework/replay/decision-keys.js';
import type { JournalsByStream } from '../../framework/replay/journals-by-stream.js';
import type { DistributedRun } from './distributed-run.js';
import { serveStreamCrews } from './distributed-runner.js';
import { scheduleStream } from './distributed-scheduler.js';
import { JetStreamDecisionJournal } from './jetstream-decision-journal.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';
import { JetStreamReplaySource } from './jetstream-replay-source.js';
import type { NatsLink } from './jetstream-transport.js';
import type { RunStateBucket } from './run-state-bucket.js';
import type { WireRefusals } from './wire-refusals.js';

/** What a pool member shares between the streams it owns: its crews, its ports, its connection. */
export interface StreamPool extends Omit<InProcessRunParts, 'journal' | 'source' | 'contextOut'> {
  /** This process, as its messages name it (`worker w1 on host:4242`). */
  readonly name: string;
  readonly container: DependencyContainer;
  readonly logger: Logger;
  readonly link: NatsLink;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly publisher: JetStreamPublisher;
  /** Logs each message refused on the wire once. */
  readonly refusals: WireRefusals;
  /** Where the crews' model calls and effects are journaled: each owned stream's journal is added while it runs. */
  readonly journals: JournalsByStream;
  /** What the streams' in-process runs did, added up as each ends. */
  readonly totals: RunTotals;
}

/** How an owned stream's run ended. */
export type OwnedStreamEnd =
  /** Its input ended (the end-of-stream marker) and every slice is committed. */
  | { readonly finished: true; readonly position: number }
  /**
   * Given up (`signal`), released after `stream_idle_ms` without an event (`idle`), or, for a
   * runner group's member, served to its end: what it committed stays, and the next owner goes
   * on from there.
   */
  | { readonly finished: false; readonly idle: boolean };

/**
 * Runs one stream a worker owns, in process (DESIGN §12): its events from JetStream, from the
 * one after the last committed position on, through the slice engine to the worker's crews, with
 * its context in the shared backend and its decisions in the stream's JetStream journal.
 * Giving it up (`signal`) abandons its open slices without committing them, exactly as if the
 * process had died there: the next owner reads from the committed position, runs them again,
 * and what they already published is stored once (actions and errors carry deterministic ids).
 */
export async function runOwnedStream(pool: StreamPool, streamId: string, signal: AbortSignal): Promise<OwnedStreamEnd> {
  return withStreamJournal(pool, streamId, [SCHEDULER_OWNER, ...pool.crews.map((crew) => crewOwner(crew.definition.id))], async (journal) => {
    const committed = await pool.backend.load(streamId);
    const source = new JetStreamReplaySource(pool.js, streamId, (committed?.position ?? 0) + 1);
    const run = inProcessRun({ ...pool, journal, source });
    let idle = false;
    const giveUp = () => {
      run.pipeline.abandon();
      void source.close();
    };
    signal.addEventListener('abort', giveUp, { once: true });
    const stopWatching = watchIdle(
      pool,
      () => run.pipeline.resumePosition,
      () => {
        idle = true;
        giveUp();
      },
    );
    try {
      if (signal.aborted) giveUp();
      await run.run(() => false);
    } finally {
      stopWatching();
      signal.removeEventListener('abort', giveUp);
      pool.totals.add(run);
    }
    return signal.aborted || idle ? { finished: false, idle: idle && !signal.aborted } : { finished: true, position: run.pipeline.resumePosition };
  });
}

/**
 * Runs one stream a worker owns when runner groups host some of its crews (DESIGN §5
 * amendments, §12): the distributed scheduler of the stream, from its checkpoint, sending each
 * crew's work to JetStream, and beside it the runner of the crews no group hosts, in this
 * process. The groups' runners serve the rest. Giving the stream up stops both; the next owner
 * goes on from the checkpoint and each crew's progress.
 */
export async function runScheduledStream(pool: StreamPool, streamId: string, bucket: RunStateBucket, signal: AbortSignal): Promise<OwnedStreamEnd> {
  return withStreamJournal(pool, streamId, [SCHEDULER_OWNER, ...pool.crews.map((crew) => crewOwner(crew.definition.id))], async (journal) => {
    const run = poolStreamRun(pool, streamId, bucket, journal);
    const stopping = new AbortController();
    const stop = () => stopping.abort();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    let idle = false;
    let failure: unknown;
    // A failure of the crews served here stops the scheduler too: it would wait for their reports.
    const serving =
      pool.crews.length === 0
        ? Promise.resolve()
        : serveStreamCrews(run, streamId, pool.crews, pool.models, stopping.signal).catch((error: unknown) => {
            failure = error;
            stop();
          });
    try {
      const scheduled = await scheduleStream(run, streamId, stopping.signal, (position) =>
        watchIdle(pool, position, () => {
          idle = true;
          stop();
        }),
      );
      await serving;
      if (failure !== undefined) throw failure;
      if (scheduled.outcome === 'finished') return { finished: true, position: scheduled.position };
      return { finished: false, idle: idle && !signal.aborted };
    } finally {
      stop();
      await serving;
      signal.removeEventListener('abort', stop);
    }
  });
}

/**
 * Serves a runner group's crews for one stream its member owns, until the stream ends or is
 * given up (`signal`): each crew from its progress in the stream's run bucket.
 */
export async function serveGroupStream(pool: StreamPool, streamId: string, bucket: RunStateBucket, signal: AbortSignal): Promise<OwnedStreamEnd> {
  return withStreamJournal(
    pool,
    streamId,
    pool.crews.map((crew) => crewOwner(crew.definition.id)),
    async (journal) => {
      await serveStreamCrews(poolStreamRun(pool, streamId, bucket, journal), streamId, pool.crews, pool.models, signal);
      return { finished: false, idle: false };
    },
  );
}

/** Runs `serve` with the stream's decision journal open for `owners`, and its crews' model calls journaled in it. */
async function withStreamJournal<T>(pool: StreamPool, streamId: string, owners: readonly DecisionOwner[], serve: (journal: DecisionJournal) => Promise<T>): Promise<T> {
  const { journal, refused } = await JetStreamDecisionJournal.open(pool.js, pool.publisher, streamId, owners);
  for (const { subject, seq, problem } of refused) pool.refusals.refuse(subject, seq, problem, 'ignored');
  pool.journals.add(streamId, journal);
  try {
    return await serve(journal);
  } finally {
    pool.journals.remove(streamId);
    await journal.close();
  }
}

/** One owned stream as the distributed scheduler and runner see the process serving it: the pool's parts, the stream's journal and run state. */
function poolStreamRun(pool: StreamPool, streamId: string, bucket: RunStateBucket, journal: DecisionJournal): DistributedRun {
  return {
    name: pool.name,
    refusals: pool.refusals,
    // Opened as the stream was claimed: there is nothing older to catch up with.
    catchUpJournal: async () => undefined,
    config: pool.config,
    graph: pool.graph,
    container: pool.container,
    link: pool.link,
    nc: pool.nc,
    js: pool.js,
    publisher: pool.publisher,
    backend: pool.backend,
    journal,
    bucket,
    logger: pool.logger.child({ stream: streamId }),
    monitor: pool.monitor,
    clock: pool.clock,
    // The pool's parts outlive the stream: the pool closes them.
    close: async () => undefined,
  };
}

/**
 * Calls `idle` once the run's input position has not moved for `stream_idle_ms` (wall time): the
 * stream is released, so an idle stream holds no consumer and no memory. Returns the stop.
 */
function watchIdle(pool: Pick<StreamPool, 'config' | 'clock'>, position: () => number, idle: () => void): () => void {
  const idleMs = pool.config.stream_idle_ms;
  if (idleMs === null) return () => undefined;
  let seen = position();
  let since = pool.clock.now();
  const timer = setInterval(
    () => {
      const now = pool.clock.now();
      if (position() !== seen) [seen, since] = [position(), now];
      else if (now - since >= idleMs) {
        clearInterval(timer);
        idle();
      }
    },
    Math.min(1000, Math.max(10, idleMs / 4)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
