import type { JetStreamClient } from '@nats-io/jetstream';
import { inProcessRun, type InProcessRunParts } from '../../framework/assembly/in-process-run.js';
import type { RunTotals } from '../../framework/assembly/run-summary.js';
import { crewOwner, SCHEDULER_OWNER } from '../../framework/replay/decision-keys.js';
import type { JournalsByStream } from '../../framework/replay/journals-by-stream.js';
import { JetStreamDecisionJournal } from './jetstream-decision-journal.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';
import { JetStreamReplaySource } from './jetstream-replay-source.js';
import type { WireRefusals } from './wire-refusals.js';

/** What a worker shares between the streams it owns: its crews, its ports, its connection. */
export interface StreamPool extends Omit<InProcessRunParts, 'journal' | 'source' | 'contextOut'> {
  readonly js: JetStreamClient;
  readonly publisher: JetStreamPublisher;
  /** Logs each message refused on the wire once. */
  readonly refusals: WireRefusals;
  /** Where the crews' model calls and effects are journaled: each owned stream's journal is added while it runs. */
  readonly journals: JournalsByStream;
  /** What the streams' runs did, added up as each ends. */
  readonly totals: RunTotals;
}

/** How an owned stream's run ended. */
export type OwnedStreamEnd =
  /** Its input ended (the end-of-stream marker) and every slice is committed. */
  | { readonly finished: true; readonly position: number }
  /**
   * Given up (`signal`), or released after `stream_idle_ms` without an event (`idle`): what it
   * committed stays, and the next owner goes on from there.
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
  const owners = [SCHEDULER_OWNER, ...pool.graph.crews.map((crew) => crewOwner(crew.id))];
  const { journal, refused } = await JetStreamDecisionJournal.open(pool.js, pool.publisher, streamId, owners);
  for (const { subject, seq, problem } of refused) pool.refusals.refuse(subject, seq, problem, 'ignored');
  pool.journals.add(streamId, journal);
  try {
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
  } finally {
    pool.journals.remove(streamId);
    await journal.close();
  }
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
