import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { resolveCrews, type LiveCrewAppOptions } from '../../framework/app.js';
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import type { CrewGraph } from '../../framework/discovery/crew-definition.js';
import { ConfigError } from '../../framework/errors.js';
import { StreamIdSchema } from '../../framework/model/event.js';
import type { ContextBackend } from '../../framework/ports.js';
import { RedisContextBackend } from '../redis/redis-context-backend.js';
import { JetStreamContextBackend } from './jetstream-context-backend.js';
import { JetStreamDecisionJournal } from './jetstream-decision-journal.js';
import { NatsLink } from './jetstream-transport.js';
import { natsConnectOptions } from './nats-connect.js';
import { RunStateBucket } from './run-state-bucket.js';

/** What a distributed scheduler or runner is given. */
export interface DistributedRunOptions extends Pick<LiveCrewAppOptions, 'crews' | 'config' | 'configFile' | 'env'> {
  /** The stream this process serves. */
  readonly streamId: string;
  /** Stops the process's work (SIGTERM); state stays in JetStream for a successor. */
  readonly signal?: AbortSignal;
  /** Where progress lines go (the CLI: stderr); default nowhere. */
  readonly log?: (line: string) => void;
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
  close(): Promise<void>;
}

/**
 * Resolves config and crews and connects: live-crew's streams are checked, the run's KV bucket
 * and journal opened. Context goes to Redis when `kv_backend: redis`, else to JetStream KV
 * (process memory cannot be shared between processes).
 *
 * @throws ConfigError for an invalid stream id, and as `createLiveCrewApp` for config and crews
 */
export async function openDistributedRun(options: DistributedRunOptions): Promise<DistributedRun> {
  const stream = StreamIdSchema.safeParse(options.streamId);
  if (!stream.success) throw new ConfigError(`--stream ${JSON.stringify(options.streamId)}: not a stream id (1-100 letters, digits, _ or -)`);
  const { config, graph } = resolveCrews(options);
  const link = new NatsLink(natsConnectOptions(config));
  const { nc } = await link.acquire();
  const js = jetstream(nc);
  const backend = config.kv_backend === 'redis' ? new RedisContextBackend(config.redis_url) : new JetStreamContextBackend(nc);
  const [journal, bucket] = await Promise.all([JetStreamDecisionJournal.open(js, options.streamId), RunStateBucket.open(nc, options.streamId)]);
  return {
    config,
    graph,
    link,
    nc,
    js,
    backend,
    journal,
    bucket,
    async close() {
      await Promise.all([backend.close(), journal.close()]);
      await link.release();
    },
  };
}
