import { hostname } from 'node:os';
import type { LiveCrewAppOptions } from '../../framework/assembly/assembly-options.js';
import type { LiveCrewApp } from '../../framework/app.js';
import { RunTotals, type RunSummary } from '../../framework/assembly/run-summary.js';
import { LiveCrewError } from '../../framework/errors.js';
import { CrewHost } from '../../framework/assembly/crew-host.js';
import { assembleProcess, type AssembledProcess } from '../../framework/assembly/process-assembly.js';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import type { CrewGraph } from '../../framework/discovery/crew-definition.js';
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
import type { OwnedStreamEnd, StreamPool } from './owned-stream.js';
import { PoolRoster, type MemberKind } from './pool-roster.js';
import { RunStateBucket } from './run-state-bucket.js';
import { SchedulerLease } from './scheduler-lease.js';
import { WireRefusals } from './wire-refusals.js';

/** Options of a pool member: an app's, and its id. */
export interface PoolMemberOptions extends LiveCrewAppOptions {
  /** This member's id in the pool (letters, digits, `-`, `_`); default `<host>-<pid>`. */
  readonly id?: string;
}

/** What a kind of pool member does with the streams it owns (DESIGN §12). */
export interface PoolRole {
  /** Its beats' key in the pool bucket, before its id. */
  readonly kind: MemberKind;
  /** Its lease of a stream, in the stream's run bucket. */
  readonly leaseKey: string;
  /** The crews it hosts. */
  readonly hosts: (crewId: string) => boolean;
  /** Runs a stream it claimed until the stream ends or `signal` aborts (it is given up). */
  serve(pool: StreamPool, streamId: string, bucket: RunStateBucket, signal: AbortSignal): Promise<OwnedStreamEnd>;
  /** What it logs as it joins the pool. */
  joined(id: string, crews: number): string;
}

/** How many streams a member claims at once: each claim opens the stream's run state and journal. */
const CLAIMS_AT_ONCE = 8;
/**
 * A member looks at the pool every third of a lease (it renews its beat then), at most this many
 * ms apart: a new stream waits at most this long for its first claim.
 */
const MAX_LOOK_MS = 1000;
/** Between a member's first beat and its first claims: long enough for the beats of members started with it to arrive. */
const FIRST_LOOK_MS = 1000;

/** Runs a pool member's app until `signal` aborts; `stop()` hands its streams over. */
export async function runPoolMemberApp(app: LiveCrewApp, signal: AbortSignal | undefined): Promise<RunSummary> {
  const stop = () => void app.stop();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const running = app.run();
    if (signal?.aborted) stop();
    return await running;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * One member of a pool, as an app: assembled as `createLiveCrewApp` does (context shared over
 * NATS), hosting the crews its role names, claiming streams by their lease up to its fair share
 * of them among the live members of its kind, and serving each as its role says. `run()` goes on
 * until `stop()`, which hands every stream over.
 *
 * @throws ConfigError as `createLiveCrewApp`, for `kv_backend: memory`, and as `roleOf` does
 */
export async function poolMemberApp(options: PoolMemberOptions, roleOf: (config: LiveCrewConfig, graph: CrewGraph) => PoolRole): Promise<LiveCrewApp> {
  const id = (options.id ?? `${hostname()}-${process.pid}`).replace(/[^a-zA-Z0-9_-]/g, '_');
  let link: NatsLink | undefined;
  let parts: NatsLinkParts | undefined;
  let chosen: PoolRole | undefined;
  let opened: { readonly pool: StreamPool; readonly host: CrewHost; readonly roster: PoolRoster; readonly assembled: AssembledProcess; readonly role: PoolRole } | undefined;
  try {
    const assembled = await assembleProcess(options, {
      ...SHARED_CONTEXT,
      ports: async (config, graph) => {
        // Before connecting: a role the config contradicts is refused without a server.
        chosen = roleOf(config, graph);
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
    const host = await CrewHost.open(assembled, journals, { ...options, hosted: chosen!.hosts });
    const pool: StreamPool = {
      name: `${chosen!.kind} ${id} on ${hostname()}:${process.pid}`,
      config,
      graph,
      container,
      crews: host.crews,
      models: host.models,
      clock,
      logger,
      monitor,
      backend: container.resolve(CONTEXT_BACKEND),
      actions: JetStreamSink.forActions(link!),
      errors: JetStreamSink.forErrors(link!),
      link: link!,
      nc: parts!.nc,
      js: parts!.js,
      publisher: parts!.publisher,
      refusals: new WireRefusals(logger, clock),
      journals,
      totals: new RunTotals(),
    };
    opened = { pool, host, roster, assembled, role: chosen! };
  } catch (error) {
    await link?.release();
    throw error;
  }
  const { pool, host, roster, assembled, role } = opened;
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
      logger.info({ crews: host.crews.length }, role.joined(id, host.crews.length));
      await new PoolMember(id, role, pool, roster, logger).run(stopping.signal);
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

/** A stream this member owns: its lease, and how to give it up. */
interface Owned {
  readonly lease: SchedulerLease;
  readonly giveUp: AbortController;
  readonly ended: Promise<void>;
}

/** The member's loop: beat, look at the pool, claim or hand over, at a third of the lease time. */
class PoolMember {
  readonly #owned = new Map<string, Owned>();
  /** How many events each stream held when the pool was last looked at. */
  #counts = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly role: PoolRole,
    readonly pool: StreamPool,
    readonly roster: PoolRoster,
    readonly logger: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    const { config, clock } = this.pool;
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      // The first beat only announces this member: members started together see each other
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
      await this.roster.leave(this.role.kind, this.id).catch(() => undefined);
      this.logger.info({ streams }, messages.memberLeft(this.id, streams));
    }
  }

  async #step(claiming: boolean): Promise<void> {
    const { clock } = this.pool;
    const { kind } = this.role;
    const now = clock.now();
    await this.#beat();
    if (!claiming) return;
    const live = this.roster.liveMembers(kind, now);
    const ownedElsewhere = new Set([...live].flatMap(([member, beat]) => (member === this.id ? [] : beat.streams)));
    const counts = await streamsWithEvents(this.pool.js);
    this.#counts = counts;
    const resting = (stream: string, events: number) => this.roster.isFinished(stream) || this.roster.isIdle(stream, events);
    // A stream its worker released idle is released by the runners serving it too.
    for (const [stream, owned] of this.#owned) if (kind !== 'worker' && resting(stream, counts.get(stream) ?? 0)) owned.giveUp.abort();
    const active = [...counts].flatMap(([stream, events]) => (this.#owned.has(stream) || !resting(stream, events) ? [stream] : []));
    const members = new Set([...live.keys(), this.id]).size;
    // A stream being given up (its calls in flight ending) is no longer counted as this member's.
    const keeping = [...this.#owned].flatMap(([stream, owned]) => (owned.giveUp.signal.aborted ? [] : [stream]));
    const step = shareStep({
      worker: this.id,
      owned: keeping,
      unowned: active.filter((stream) => !this.#owned.has(stream) && !ownedElsewhere.has(stream)),
      active: active.length,
      workers: members,
      others: [...live].flatMap(([member, beat]) => (member === this.id ? [] : [beat.streams.length])),
    });
    const share = fairShare(active.length, members);
    this.pool.monitor.poolLooked?.({ owned: keeping.length, share, workers: members, activeStreams: active.length, staleLeaseMs: this.#staleLeaseMs(now) });
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
    // What it took is told at once, not a look later: the others count it, and a takeover shows.
    if (step.claim.some((stream) => this.#owned.has(stream))) await this.#beat();
  }

  async #beat(): Promise<void> {
    const { config, clock } = this.pool;
    await this.roster.beat(this.role.kind, this.id, { name: this.pool.name, until: clock.now() + config.lease_ms, streams: [...this.#owned.keys()] });
  }

  /** How long ago the stalest of this member's leases was renewed, in ms (0 with none). */
  #staleLeaseMs(now: number): number {
    return Math.max(0, ...[...this.#owned.values()].map((owned) => now - owned.lease.renewedAt));
  }

  /** Takes a stream's lease if nobody holds it, and serves the stream until it ends or is given up. */
  async #claim(streamId: string): Promise<void> {
    const { config, clock, publisher } = this.pool;
    const bucket = await RunStateBucket.open(this.pool.nc, publisher, streamId);
    const lease = new SchedulerLease(bucket, this.id, config.lease_ms, clock, this.logger, this.role.leaseKey);
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
        const end = await this.role.serve(this.pool, streamId, bucket, giveUp.signal);
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
