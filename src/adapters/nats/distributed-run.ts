import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { alsoObserving, resolveCrews, type LiveCrewAppOptions } from '../../framework/app.js';
import { logObserver } from '../../framework/runtime/log-observer.js';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import type { CrewGraph } from '../../framework/discovery/crew-definition.js';
import { ConfigError } from '../../framework/errors.js';
import { StreamIdSchema } from '../../framework/model/event.js';
import type { ContextBackend, Logger, Monitor } from '../../framework/ports.js';
import { adapterFactory } from '../../framework/adapter-registry.js';
import { Heartbeat, NO_MONITOR } from '../../framework/runtime/heartbeat.js';
import { systemClock } from '../../framework/system-clock.js';
import { RedisContextBackend } from '../redis/redis-context-backend.js';
import { JetStreamContextBackend } from './jetstream-context-backend.js';
import { JetStreamDecisionJournal } from './jetstream-decision-journal.js';
import { NatsLink } from './jetstream-transport.js';
import { natsConnectOptions } from './nats-connect.js';
import { RunStateBucket } from './run-state-bucket.js';
import { liveSubject } from './jetstream-streams.js';

/** What a distributed scheduler or runner is given. */
export interface DistributedRunOptions extends Pick<LiveCrewAppOptions, 'crews' | 'config' | 'configFile' | 'env'> {
  /** The stream this process serves. */
  readonly streamId: string;
  /** Stops the process's work (SIGTERM); state stays in JetStream for a successor. */
  readonly signal?: AbortSignal;
  /** The process's logger; default pino on stderr at `log_level`. */
  readonly logger?: Logger;
  /** The process's monitor; default Prometheus on `metrics_port` when set, else none. */
  readonly monitor?: Monitor;
}

/** The parts a distributed process shares: config, crews, connection, context, journal, run state. */
export interface DistributedRun {
  readonly config: LiveCrewConfig;
  readonly graph: CrewGraph;
  readonly link: NatsLink;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly backend: ContextBackend;
  readonly journal: JetStreamDecisionJournal;
  readonly bucket: RunStateBucket;
  readonly logger: Logger;
  readonly monitor: Monitor;
  close(): Promise<void>;
}

/**
 * Resolves config and crews and connects: live-crew's streams are checked, the run's KV bucket
 * and journal opened, the monitor started and the heartbeat (`live.<stream>.heartbeats`, core
 * NATS, not stored) begun. Context goes to Redis when `kv_backend: redis`, else to JetStream KV
 * (process memory cannot be shared between processes).
 *
 * @throws ConfigError for an invalid stream id, and as `createLiveCrewApp` for config and crews
 */
export async function openDistributedRun(options: DistributedRunOptions, role: string): Promise<DistributedRun> {
  const stream = StreamIdSchema.safeParse(options.streamId);
  if (!stream.success) throw new ConfigError(`--stream ${JSON.stringify(options.streamId)}: not a stream id (1-100 letters, digits, _ or -)`);
  const { config, graph } = resolveCrews(options);
  const link = new NatsLink(natsConnectOptions(config));
  const { nc } = await link.acquire();
  try {
    return await openOn(options, role, config, graph, link, nc);
  } catch (error) {
    // A failure half-way (a bucket, the monitor's port) must not leave the connection open.
    await link.release();
    throw error;
  }
}

async function openOn(options: DistributedRunOptions, role: string, config: LiveCrewConfig, graph: CrewGraph, link: NatsLink, nc: NatsConnection): Promise<DistributedRun> {
  const js = jetstream(nc);
  const backend = config.kv_backend === 'redis' ? new RedisContextBackend(config.redis_url) : new JetStreamContextBackend(nc);
  const [journal, bucket] = await Promise.all([JetStreamDecisionJournal.open(js, options.streamId), RunStateBucket.open(nc, options.streamId)]);
  const logger = (options.logger ?? adapterFactory('logger', 'pino')(config)).child({ stream: options.streamId });
  const configured = options.monitor ?? (config.metrics_port === null ? NO_MONITOR : adapterFactory('monitor', 'prometheus')(config));
  const monitor = alsoObserving(configured, [logObserver(logger)]);
  await monitor.start?.();
  const subject = liveSubject(options.streamId, 'heartbeats');
  const heartbeat = new Heartbeat({
    intervalMs: config.heartbeat_s * 1000,
    clock: systemClock,
    logger,
    monitor,
    beat: (seq) => nc.publish(subject, JSON.stringify({ ts: new Date().toISOString(), kind: '__hb', stream_id: options.streamId, payload: { process: role, seq } })),
  });
  heartbeat.start();
  return {
    config,
    graph,
    link,
    nc,
    js,
    backend,
    journal,
    bucket,
    logger,
    monitor,
    async close() {
      heartbeat.stop();
      await Promise.all([backend.close(), journal.close(), monitor.close()]);
      await link.release();
    },
  };
}
