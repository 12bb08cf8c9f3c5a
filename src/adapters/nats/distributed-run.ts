import { hostname } from 'node:os';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DependencyContainer } from 'tsyringe';
import type { LiveCrewAppOptions } from '../../framework/assembly/assembly-options.js';
import { adapter, isolationPorts, serviceDefaults, type PortDefault } from '../../framework/assembly/port-bindings.js';
import { assembleProcess, type AssembledProcess, type ProcessShape } from '../../framework/assembly/process-assembly.js';
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
import { Heartbeat } from '../../framework/runtime/heartbeat.js';
import { CONTEXT_BACKEND, DECISION_JOURNAL } from '../../framework/tokens.js';
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
  const journalGiven = (options.providers ?? []).some((provider) => provider.token === DECISION_JOURNAL);
  // Made while the ports are bound: the connection they share.
  let link: NatsLink | undefined;
  let connection: Connection | undefined;
  try {
    const assembled = await assembleProcess(options, {
      ...SHARED_CONTEXT,
      ports: async (config, graph) => {
        link = new NatsLink(natsConnectOptions(config), liveRetention(config));
        const parts = await link.acquire();
        const [journal, bucket] = await Promise.all([
          journalGiven ? undefined : JetStreamDecisionJournal.open(parts.js, parts.publisher, options.streamId, owners(graph)),
          RunStateBucket.open(parts.nc, parts.publisher, options.streamId),
        ]);
        connection = { link, parts, journal, bucket };
        return [[DECISION_JOURNAL, () => journal?.journal], ...sharedContextPorts(config, graph, parts.nc)];
      },
      logFields: { stream: options.streamId },
    });
    return await openOn(options, role, assembled, connection!);
  } catch (error) {
    // A failure half-way (a bucket, the monitor's port) must not leave the connection open.
    await link?.release();
    throw error;
  }
}

/** How a process whose context other processes share is configured: never in process memory. */
export const SHARED_CONTEXT: Pick<ProcessShape, 'configDefaults' | 'check'> = {
  configDefaults: { kv_backend: 'jetstream' },
  check: (config) => {
    if (config.kv_backend === 'memory') throw new ConfigError(messages.distributedNeedsSharedContext());
  },
};

/**
 * The ports of a process whose context other processes share: the context backend (JetStream KV
 * on the process's connection `nc`, or the adapter `kv_backend` names), the isolates' launcher,
 * and the services every process has.
 */
export function sharedContextPorts(config: LiveCrewConfig, graph: CrewGraph, nc: NatsConnection): PortDefault[] {
  return [
    [CONTEXT_BACKEND, config.kv_backend === 'jetstream' ? () => new JetStreamContextBackend(nc) : adapter('context', config.kv_backend, config)],
    ...isolationPorts(config, graph),
    ...serviceDefaults(config),
  ];
}

/** What a distributed process holds of NATS: its connection, its journal (unless one was provided) and its run state. */
interface Connection {
  readonly link: NatsLink;
  readonly parts: NatsLinkParts;
  readonly journal: OpenedJournal | undefined;
  readonly bucket: RunStateBucket;
}

type OpenedJournal = Awaited<ReturnType<typeof JetStreamDecisionJournal.open>>;

async function openOn(
  options: DistributedRunOptions,
  role: string,
  { config, graph, container, clock, logger, monitor }: AssembledProcess,
  { link, parts: { nc, js, publisher }, journal: opened, bucket }: Connection,
): Promise<DistributedRun> {
  const streamJournal = opened?.journal;
  const backend = container.resolve(CONTEXT_BACKEND);
  const journal = container.resolve(DECISION_JOURNAL);
  const refusals = new WireRefusals(logger, clock);
  const refuseDecisions = (refused: readonly RefusedDecision[]) => {
    for (const { subject, seq, problem } of refused) refusals.refuse(subject, seq, problem, 'ignored');
  };
  refuseDecisions(opened?.refused ?? []);
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
