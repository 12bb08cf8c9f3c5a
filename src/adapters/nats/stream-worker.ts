import { hostname } from 'node:os';
import type { LiveCrewAppOptions } from '../../framework/assembly/assembly-options.js';
import type { LiveCrewApp } from '../../framework/app.js';
import { RunTotals, type RunSummary } from '../../framework/assembly/run-summary.js';
import { LiveCrewError } from '../../framework/errors.js';
import { CrewHost } from '../../framework/assembly/crew-host.js';
import { assembleProcess, type AssembledProcess } from '../../framework/assembly/process-assembly.js';
import { describeThrown } from '../../framework/describe-thrown.js';
import { fairShare, shareStep } from '../../framework/distributed/stream-shares.js';
import { messages } from '../../framework/messages.js';
import type { Logger } from '../../framework/ports/logger.js';
import { JournalsByStream } from '../../framework/replay/journals-by-stream.js';
import { CONTEXT_BACKEND } from '../../framework/tokens.js';
import { SHARED_CONTEXT, sharedContextPorts } from './distributed-run.js';
import { liveRetention, streamsWithEvents } from './jetstream-streams.js';
import { JetStreamSink, NatsLink, type NatsLinkParts } from './jetstream-transport.js';
import { natsConnectOptions } from './nats-connect.js';
import { runOwnedStream, type StreamPool } from './owned-stream.js';
import { PoolRoster } from './pool-roster.js';
import { RunStateBucket } from './run-state-bucket.js';
import { SchedulerLease } from './scheduler-lease.js';
import { WireRefusals } from './wire-refusals.js';

/** Options of `runStreamWorker`. */
export interface StreamWorkerOptions extends PoolWorkerOptions {
  /** Stops the worker: it hands its streams over and leaves the pool. */
  readonly signal?: AbortSignal;
}

/** Options of `poolWorkerApp`: an app's, and the worker's id. */
export interface PoolWorkerOptions extends LiveCrewAppOptions {
  /** This worker's id in the pool (letters, digits, `-`, `_`); default `<host>-<pid>`. */
  readonly id?: string;
}

/** How many streams a worker claims at once: each claim opens the stream's run state and journal. */
const CLAIMS_AT_ONCE = 8;
/**
 * A worker looks at the pool every third of a lease (it renews its beat then), at most this many
 * ms apart: a new stream waits at most this long for its first claim.
 */
const MAX_LOOK_MS = 1000;
/** Between a worker's first beat and its first claims: long enough for the beats of workers started with it to arrive. */
const FIRST_LOOK_MS = 1000;

/**
 * Runs one worker of a pool until `signal` aborts (`live-crew worker`): see `poolWorkerApp`.
 *
 * @throws ConfigError as `createLiveCrewApp`, and for `kv_backend: memory`
 */
export async function runStreamWorker(options: StreamWorkerOptions): Promise<RunSummary> {
  const app = await poolWorkerApp(options);
  const stop = () => void app.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    const running = app.run();
    if (options.signal?.aborted) stop();
    return await running;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/**
 * One worker of a pool (DESIGN §12), as an app: what `createLiveCrewApp` makes under
 * `scheduler: nats`. Every copy runs the same crews with the same config, and no stream is
 * named. Each finds the streams in `LIVE_EVENTS`, claims unowned ones by their lease up to its
 * fair share (ceil(active streams / live workers), workers known by their beats in the pool
 * bucket), and runs each in process from its last commit. A worker over its share hands streams
 * over; a worker that dies loses its leases when they lapse, and the others take its streams from
 * their last commits. `run()` goes on until `stop()`, which hands every stream over; the streams'
 * context is in the shared backend, so `context()` has none.
 *
 * @throws ConfigError as `createLiveCrewApp`, and for `kv_backend: memory`
 */
export async function poolWorkerApp(options: PoolWorkerOptions): Promise<LiveCrewApp> {
  const id = (options.id ?? `${hostname()}-${process.pid}`).replace(/[^a-zA-Z0-9_-]/g, '_');
  let link: NatsLink | undefined;
  let parts: NatsLinkParts | undefined;
  let opened: { readonly pool: StreamPool; readonly host: CrewHost; readonly roster: PoolRoster; readonly assembled: AssembledProcess } | undefined;
  try {
    const assembled = await assembleProcess(options, {
      ...SHARED_CONTEXT,
      ports: async (config, graph) => {
        link = new NatsLink(natsConnectOptions(config), liveRetention(config));
        parts = await link.acquire();
        return sharedContextPorts(config, graph, parts.nc);
      },
      logFields: { worker: id },
    });
    const { config, graph, container, clock, logger, monitor } = assembled;
    // Opened before anything else holds the connection: a failure here leaves nothing to close.
    const roster = await PoolRoster.open(parts!.nc);
    const journals = new JournalsByStream();
    const host = await CrewHost.open(assembled, journals, options);
    const pool: StreamPool = {
      config,
      graph,
      crews: host.crews,
      models: host.models,
      clock,
      monitor,
      backend: container.resolve(CONTEXT_BACKEND),
      actions: JetStreamSink.forActions(link!),
      errors: JetStreamSink.forErrors(link!),
      js: parts!.js,
      publisher: parts!.publisher,
      refusals: new WireRefusals(logger, clock),
      journals,
      totals: new RunTotals(),
    };
    opened = { pool, host, roster, assembled };
  } catch (error) {
    await link?.release();
    throw error;
  }
  const { pool, host, roster, assembled } = opened;
  const { logger, monitor, clock } = assembled;
  const stopping = new AbortController();
  let running: Promise<RunSummary> | undefined;
  const close = async () => {
    roster.close();
    await Promise.all([pool.actions.close(), pool.errors.close(), pool.backend.close(), monitor.close(), host.close()]);
    await link!.release();
  };
  const run = async (): Promise<RunSummary> => {
    const started = clock.now();
    try {
      await monitor.start?.();
      await host.start();
      logger.info({ crews: host.crews.length }, messages.workerJoined(id, host.crews.length));
      await new StreamWorker(id, pool, roster, parts!, logger).run(stopping.signal);
    } finally {
      await host.stop();
      await close();
    }
    return pool.totals.summary({ abandoned: 0, idleCrews: [], durationMs: clock.now() - started });
  };
  return {
    config: assembled.config,
    crews: assembled.graph.crews,
    container: assembled.container,
    run() {
      if (running) throw new LiveCrewError(messages.appAlreadyRan());
      running = run();
      return running;
    },
    async stop() {
      stopping.abort();
      if (!running) return close();
      await running.then(
        () => undefined,
        () => undefined,
      );
    },
    context: () => undefined,
    reloadableKnobs: new Map(),
  };
}

/** A stream this worker owns: its lease, and how to give it up. */
interface Owned {
  readonly lease: SchedulerLease;
  readonly giveUp: AbortController;
  readonly ended: Promise<void>;
}

/** The worker's loop: beat, look at the pool, claim or hand over, at a third of the lease time. */
class StreamWorker {
  readonly #owned = new Map<string, Owned>();
  /** How many events each stream held when the pool was last looked at. */
  #counts = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly pool: StreamPool,
    readonly roster: PoolRoster,
    readonly nats: NatsLinkParts,
    readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const { config, clock } = this.pool;
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      // The first beat only announces this worker: workers started together see each other
      // before any claims, instead of the first one up claiming every stream.
      let claiming = false;
      while (!signal.aborted) {
        await this.#step(claiming).catch((error: unknown) => this.logger.warn({}, messages.poolStepFailed(describeThrown(error))));
        const pause = claiming ? Math.min(MAX_LOOK_MS, config.lease_ms / 3) : FIRST_LOOK_MS;
        claiming = true;
        await Promise.race([clock.sleep(pause), stopped]);
      }
    } finally {
      const streams = this.#owned.size;
      for (const owned of this.#owned.values()) owned.giveUp.abort();
      await Promise.all([...this.#owned.values()].map((owned) => owned.ended));
      await this.roster.leave(this.id).catch(() => undefined);
      this.logger.info({ streams }, messages.workerLeft(this.id, streams));
    }
  }

  async #step(claiming: boolean): Promise<void> {
    const { config, clock } = this.pool;
    const now = clock.now();
    await this.roster.beat(this.id, { name: this.id, until: now + config.lease_ms, streams: [...this.#owned.keys()] });
    if (!claiming) return;
    const live = this.roster.liveWorkers(now);
    const ownedElsewhere = new Set([...live].flatMap(([worker, beat]) => (worker === this.id ? [] : beat.streams)));
    const counts = await streamsWithEvents(this.nats.js);
    this.#counts = counts;
    const active = [...counts].flatMap(([stream, events]) => (this.#owned.has(stream) || (!this.roster.isFinished(stream) && !this.roster.isIdle(stream, events)) ? [stream] : []));
    const workers = new Set([...live.keys(), this.id]).size;
    // A stream being given up (its calls in flight ending) is no longer counted as this worker's.
    const keeping = [...this.#owned].flatMap(([stream, owned]) => (owned.giveUp.signal.aborted ? [] : [stream]));
    const step = shareStep({
      worker: this.id,
      owned: keeping,
      unowned: active.filter((stream) => !this.#owned.has(stream) && !ownedElsewhere.has(stream)),
      active: active.length,
      workers,
      others: [...live].flatMap(([worker, beat]) => (worker === this.id ? [] : [beat.streams.length])),
    });
    const share = fairShare(active.length, workers);
    this.pool.monitor.poolLooked?.({ owned: keeping.length, share, workers, activeStreams: active.length, staleLeaseMs: this.#staleLeaseMs(now) });
    for (const stream of step.handOver) {
      this.logger.info({ stream }, messages.streamHandedOver(stream, share));
      this.pool.monitor.streamOwnership?.('handed-over', stream);
      this.#owned.get(stream)?.giveUp.abort();
    }
    const claims = [...step.claim];
    await Promise.all(
      Array.from({ length: Math.min(CLAIMS_AT_ONCE, claims.length) }, async () => {
        for (let stream = claims.shift(); stream !== undefined; stream = claims.shift()) await this.#claim(stream);
      }),
    );
  }

  /** How long ago the stalest of this worker's leases was renewed, in ms (0 with none). */
  #staleLeaseMs(now: number): number {
    return Math.max(0, ...[...this.#owned.values()].map((owned) => now - owned.lease.renewedAt));
  }

  /** Takes a stream's lease if nobody holds it, and runs the stream until it ends or is given up. */
  async #claim(streamId: string): Promise<void> {
    const { config, clock, publisher } = this.pool;
    const bucket = await RunStateBucket.open(this.nats.nc, publisher, streamId);
    const lease = new SchedulerLease(bucket, this.id, config.lease_ms, clock, this.logger);
    const taken = await lease.tryAcquire();
    if (taken !== 'free' && taken !== 'lapsed') return;
    const giveUp = new AbortController();
    const { monitor } = this.pool;
    lease.keep(() => {
      this.logger.warn({ stream: streamId }, messages.streamLeaseLost(streamId));
      monitor.streamOwnership?.('lost', streamId);
      giveUp.abort();
    });
    this.logger.info({ stream: streamId }, messages.streamClaimed(streamId, taken === 'lapsed'));
    monitor.streamOwnership?.(taken === 'lapsed' ? 'taken-over' : 'claimed', streamId);
    const ended = (async () => {
      try {
        const end = await runOwnedStream(this.pool, streamId, giveUp.signal);
        // Marked before the lease goes: nobody claims a finished or idle stream in between.
        if (end.finished) {
          monitor.streamOwnership?.('finished', streamId);
          await this.roster.finish(streamId, end.position);
        } else if (end.idle) {
          monitor.streamOwnership?.('released-idle', streamId);
          await this.roster.release(streamId, this.#counts.get(streamId) ?? 0);
          this.logger.info({ stream: streamId }, messages.streamReleasedIdle(streamId, this.pool.config.stream_idle_ms ?? 0));
        }
      } catch (error) {
        this.logger.error({ stream: streamId }, messages.ownedStreamFailed(streamId, describeThrown(error)));
      } finally {
        this.#owned.delete(streamId);
        await lease.release();
      }
    })();
    this.#owned.set(streamId, { lease, giveUp, ended });
  }
}
