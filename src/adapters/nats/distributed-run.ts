import { hostname } from 'node:os';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { alsoObserving, registerPorts, resolveCrews, serviceDefaults, type LiveCrewAppOptions } from '../../framework/app.js';
import { logObserver } from '../../framework/runtime/log-observer.js';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import type { CrewGraph } from '../../framework/discovery/crew-definition.js';
import { ConfigError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { StreamIdSchema } from '../../framework/model/event.js';
import type { Clock } from '../../framework/ports/clock.js';
import type { ContextBackend } from '../../framework/ports/context-backend.js';
import type { DecisionJournal } from '../../framework/ports/decision-journal.js';
import type { Logger } from '../../framework/ports/logger.js';
import type { Monitor } from '../../framework/ports/run-observer.js';
import { adapterFactory } from '../../framework/adapter-registry.js';
import { Heartbeat } from '../../framework/runtime/heartbeat.js';
import { CLOCK, CONTEXT_BACKEND, DECISION_JOURNAL, LOGGER, MONITOR } from '../../framework/tokens.js';
import { JetStreamContextBackend } from './jetstream-context-backend.js';
import { JetStreamDecisionJournal, type RefusedDecision } from './jetstream-decision-journal.js';
import { NatsLink, type NatsLinkParts } from './jetstream-transport.js';
import type { JetStreamPublisher } from './jetstream-publishing.js';
import { natsConnectOptions } from './nats-connect.js';
import { RunStateBucket } from './run-state-bucket.js';
import { liveRetention, liveSubject } from './jetstream-streams.js';
import { WireRefusals } from './wire-refusals.js';
import type { DecisionOwner } from '../../framework/replay/decision-keys.js';

/** What a distributed scheduler or runner is given. */
export interface DistributedRunOptions extends Pick<LiveCrewAppOptions, 'crews' | 'config' | 'configFile' | 'env' | 'providers' | 'container' | 'crewsModule'> {
  /** The stream this process serves. */
  readonly streamId: string;
  /** Stops the process's work (SIGTERM); state stays in JetStream for a successor. */
  readonly signal?: AbortSignal;
}

/** The parts a distributed process shares: config, crews, container, connection, context, journal, run state. */
export interface DistributedRun {
  /** This process, as its messages name it: its role, host and pid (`runner /^(?:a)$/ on host:4242`). */
  readonly name: string;
  /** Logs each message the process refused on the wire once. */
  readonly refusals: WireRefusals;
  /** Loads the decisions recorded since the process started (a standby taking over): unless a journal was provided. */
  catchUpJournal(): Promise<void>;
  readonly config: LiveCrewConfig;
  readonly graph: CrewGraph;
  /** The process's container: its ports bound as in `createLiveCrewApp`, `providers` winning. */
  readonly container: DependencyContainer;
  readonly link: NatsLink;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** Every JetStream write of the process goes through it, acknowledgements pipelined. */
  readonly publisher: JetStreamPublisher;
  readonly backend: ContextBackend;
  readonly journal: DecisionJournal;
  readonly bucket: RunStateBucket;
  readonly logger: Logger;
  readonly monitor: Monitor;
  readonly clock: Clock;
  close(): Promise<void>;
}

/**
 * Resolves config and crews and connects: live-crew's streams are checked, the run's KV bucket
 * and journal opened, the monitor started and the heartbeat (`live.<stream>.heartbeats`, core
 * NATS, not stored) begun. Ports are bound as `createLiveCrewApp` binds them, a provider for a
 * port token replacing the default: context in JetStream KV (`kv_backend` defaults to
 * `jetstream` here) or Redis, the journal in JetStream, the system clock, pino, Prometheus.
 *
 * @throws ConfigError for an invalid stream id, for `kv_backend: memory` (process memory cannot
 *   be shared between processes), and as `createLiveCrewApp` for config and crews
 */
export async function openDistributedRun(options: DistributedRunOptions, role: string, owners: (graph: CrewGraph) => readonly DecisionOwner[]): Promise<DistributedRun> {
  const stream = StreamIdSchema.safeParse(options.streamId);
  if (!stream.success) throw new ConfigError(messages.notAStreamId(options.streamId));
  const { config, graph } = resolveCrews({ ...options, configDefaults: { kv_backend: 'jetstream' } });
  if (config.kv_backend === 'memory') throw new ConfigError(messages.distributedNeedsSharedContext());
  const link = new NatsLink(natsConnectOptions(config), liveRetention(config));
  const parts = await link.acquire();
  try {
    return await openOn(options, role, owners(graph), config, graph, link, parts);
  } catch (error) {
    // A failure half-way (a bucket, the monitor's port) must not leave the connection open.
    await link.release();
    throw error;
  }
}

async function openOn(
  options: DistributedRunOptions,
  role: string,
  owners: readonly DecisionOwner[],
  config: LiveCrewConfig,
  graph: CrewGraph,
  link: NatsLink,
  { nc, js, publisher }: NatsLinkParts,
): Promise<DistributedRun> {
  const providers = options.providers ?? [];
  const journalGiven = providers.some((provider) => provider.token === DECISION_JOURNAL);
  const [opened, bucket] = await Promise.all([journalGiven ? undefined : JetStreamDecisionJournal.open(js, publisher, options.streamId, owners), RunStateBucket.open(nc, publisher, options.streamId)]);
  const streamJournal = opened?.journal;
  const container = (options.container ?? rootContainer).createChildContainer();
  await registerPorts(container, config, providers, [
    // JetStream KV shares this process's connection.
    [CONTEXT_BACKEND, async () => (config.kv_backend === 'jetstream' ? new JetStreamContextBackend(nc) : (await adapterFactory('context', config.kv_backend))(config))],
    [DECISION_JOURNAL, () => streamJournal],
    ...serviceDefaults(config),
  ]);
  const backend = container.resolve(CONTEXT_BACKEND);
  const journal = container.resolve(DECISION_JOURNAL);
  const clock = container.resolve(CLOCK);
  const logger = container.resolve(LOGGER).child({ stream: options.streamId });
  const refusals = new WireRefusals(logger, clock);
  const refuseDecisions = (refused: readonly RefusedDecision[]) => {
    for (const { subject, seq, problem } of refused) refusals.refuse(subject, seq, problem, 'ignored');
  };
  refuseDecisions(opened?.refused ?? []);
  const monitor = alsoObserving(container.resolve(MONITOR), [logObserver(logger)]);
  await monitor.start?.();
  const subject = liveSubject(options.streamId, 'heartbeats');
  const heartbeat = new Heartbeat({
    intervalMs: config.heartbeat_s * 1000,
    clock,
    logger,
    monitor,
    beat: (seq) => nc.publish(subject, JSON.stringify({ ts: new Date(clock.now()).toISOString(), kind: '__hb', stream_id: options.streamId, payload: { process: role, seq } })),
  });
  heartbeat.start();
  return {
    name: `${role} on ${hostname()}:${process.pid}`,
    refusals,
    async catchUpJournal() {
      refuseDecisions((await streamJournal?.catchUp()) ?? []);
    },
    config,
    graph,
    container,
    link,
    nc,
    js,
    publisher,
    backend,
    journal,
    bucket,
    logger,
    monitor,
    clock,
    async close() {
      heartbeat.stop();
      await Promise.all([backend.close(), journal.close(), monitor.close()]);
      await link.release();
    },
  };
}
