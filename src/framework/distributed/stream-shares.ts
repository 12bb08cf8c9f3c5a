import { createHash } from 'node:crypto';

// How a pool of identical workers spreads streams (DESIGN §12): each claims unowned streams up to
// its fair share and hands over what it holds beyond it. No coordinator decides: every worker
// works its own step out from what all of them can see (the active streams, the live workers),
// so the pool settles with every worker at or below its share.

/** The most streams one worker should own: ceil(active streams / live workers); 0 with none active. */
export function fairShare(activeStreams: number, liveWorkers: number): number {
  if (activeStreams <= 0) return 0;
  return Math.ceil(activeStreams / Math.max(1, liveWorkers));
}

/** What a worker sees when it decides its next step. */
export interface ShareView {
  /** The worker's id, which orders the streams it prefers. */
  readonly worker: string;
  /** Streams it owns. */
  readonly owned: readonly string[];
  /** Active streams nobody owns. */
  readonly unowned: readonly string[];
  /** Every active stream, owned or not. */
  readonly active: number;
  /** Live workers, itself included. */
  readonly workers: number;
  /** How many streams each other live worker owns. */
  readonly others: readonly number[];
}

/** A worker's next step: streams to try to claim, streams to hand over. */
export interface ShareStep {
  readonly claim: readonly string[];
  readonly handOver: readonly string[];
}

/**
 * The next step of a worker towards its fair share: claim unowned streams while it owns fewer,
 * in the order it prefers (so workers starting together try different streams first); or, while
 * it owns more and another worker owns less than its share with nothing unowned to claim (one
 * just joined), hand over what it holds beyond its share, those it prefers least: a joining
 * worker gets its share in one step of the others, however many streams that is. A hand-over
 * costs the stream's open slices, run again by the next owner, so a worker over its share
 * because streams finished elsewhere keeps what it runs until someone is short. Workers that
 * hold their share claim nothing, so what one hands over goes to those below theirs.
 */
export function shareStep(view: ShareView): ShareStep {
  const share = fairShare(view.active, view.workers);
  const owned = view.owned.length;
  if (owned < share) return { claim: preferred(view.worker, view.unowned).slice(0, share - owned), handOver: [] };
  const someoneShort = view.unowned.length === 0 && view.others.some((n) => n < share);
  if (owned > share && someoneShort) return { claim: [], handOver: preferred(view.worker, view.owned).slice(share) };
  return { claim: [], handOver: [] };
}

/**
 * Streams in the order a worker prefers them: by a digest of worker and stream (rendezvous
 * hashing), so each worker has its own order and a stream's preferred owner stays put as workers
 * come and go.
 */
export function preferred(worker: string, streams: readonly string[]): string[] {
  const rank = (stream: string) => createHash('sha1').update(`${worker}\0${stream}`).digest('hex');
  return streams
    .map((stream) => ({ stream, rank: rank(stream) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map(({ stream }) => stream);
}
