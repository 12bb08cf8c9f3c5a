import type { Command } from 'commander';
import { DashboardFeed } from '../adapters/dashboard/dashboard-feed.js';
import { resolveCrews } from '../framework/assembly/process-assembly.js';
import { loadCrews } from '../framework/discovery/crew-module.js';
import { systemClock } from '../framework/system-clock.js';
import { serveDashboard } from './dashboard-serving.js';
import { parsePort, parseStreamId } from './options.js';
import { runCrews, withRunOptions, type RunOptions } from './run-command.js';
import { onStopSignal, STOP_GRACE_MS } from './stop-signals.js';

/** The dashboard's port unless `--port` says otherwise. */
const DEV_PORT = 4400;

interface DevOptions extends Omit<RunOptions, 'crews'> {
  crews?: string[];
  port?: number;
  host?: string;
  stream?: string;
}

/**
 * `live-crew dev <events> --crews …`: a run with the live dashboard, which stays up after the run;
 * `live-crew dev --stream <id> --nats-url …`: the dashboard of a distributed stream, read-only;
 * `live-crew dev --nats-url …`: a pool's streams and who serves each, read-only.
 */
export function registerDevCommand(program: Command): void {
  withRunOptions(
    program
      .command('dev')
      .description(
        'run crews over an event file with the live dashboard in the browser; with --stream, watch a distributed stream over NATS instead; with --nats-url alone, a pool of workers: every stream and who serves it (read-only)',
      )
      .argument('[events]', 'the events file, or - for stdin (not with --stream)'),
    false,
  )
    .option('--port <port>', `the dashboard's port (default ${DEV_PORT}; 0: any free port)`, parsePort)
    .option('--host <address>', 'the address the dashboard binds (default 127.0.0.1: this machine only)')
    .option('--stream <id>', 'watch this stream of a distributed run (scheduler and runners) over NATS; --crews, if given, draws their graph', parseStreamId)
    .action(async (events: string | undefined, options: DevOptions, command: Command) => {
      const ui = options.port ?? DEV_PORT;
      if (options.stream !== undefined) {
        if (events !== undefined) command.error(`error: dev --stream watches a stream over NATS and reads no events file (got ${events})`);
        await watchStream(options.stream, { ...options, ui });
        return;
      }
      if (events === undefined && options.natsUrl !== undefined) {
        await watchPool({ ...options, natsUrl: options.natsUrl, ui });
        return;
      }
      if (events === undefined) command.error('error: dev needs an events file (or - for stdin), --stream <id> to watch a distributed stream, or --nats-url <url> to watch a pool of workers');
      if (options.crews === undefined) command.error('error: dev <events> needs --crews <path>: the crews to run');
      await runCrews(events, { ...options, crews: options.crews, ui, ...(options.host !== undefined ? { uiHost: options.host } : {}) }, true);
    });
}

/** How often the pool view is read again, in ms. */
const POOL_LOOK_MS = 1000;

/** Serves the dashboard of a pool (its workers, runner groups and streams) until a stop signal. */
async function watchPool(options: DevOptions & { natsUrl: string; ui: number }): Promise<void> {
  const { config } = resolveCrews({ crews: [], ...(options.config !== undefined ? { configFile: options.config } : {}), config: { nats_url: options.natsUrl } });
  const stopped = stopSignalled();
  const [{ connectNats, natsConnectOptions }, { poolStatus }, { PoolRoster }, { jetstream }] = await Promise.all([
    import('../adapters/nats/nats-connect.js'),
    import('../adapters/nats/pool-status.js'),
    import('../adapters/nats/pool-roster.js'),
    import('@nats-io/jetstream'),
  ]);
  const nc = await connectNats(natsConnectOptions(config));
  const feed = new DashboardFeed({ mode: 'viewer', title: `pool on ${config.nats_url}` });
  const roster = await PoolRoster.open(nc);
  const server = await serveDashboard(feed, { ui: options.ui, ...(options.host !== undefined ? { uiHost: options.host } : {}) });
  const look = async () => feed.poolSeen(await poolStatus(roster, jetstream(nc), systemClock.now()));
  try {
    await look();
    // A look that fails (the server restarting) is tried again at the next.
    const timer = setInterval(() => void look().catch(() => undefined), POOL_LOOK_MS);
    await stopped;
    clearInterval(timer);
  } finally {
    roster.close();
    await server.close();
    await nc.drain();
  }
}

/** Resolves on SIGINT or SIGTERM. */
function stopSignalled(): Promise<void> {
  return new Promise<void>((resolve) => onStopSignal(resolve, STOP_GRACE_MS));
}

/** Serves the dashboard of a distributed stream until a stop signal. */
async function watchStream(streamId: string, options: DevOptions & { ui: number }): Promise<void> {
  const { crews } = options.crews === undefined ? { crews: [] } : await loadCrews(options.crews);
  const { config, graph } = resolveCrews({
    crews,
    ...(options.config !== undefined ? { configFile: options.config } : {}),
    config: options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {},
  });
  const stopped = stopSignalled();
  // The NATS client loads only for a distributed stream, not for `dev <events>`.
  const [{ followStream }, { connectNats, natsConnectOptions }, { pinoLogger }] = await Promise.all([
    import('../adapters/dashboard/nats-stream-view.js'),
    import('../adapters/nats/nats-connect.js'),
    import('../adapters/pino/pino-logger.js'),
  ]);
  const nc = await connectNats(natsConnectOptions(config));
  const feed = new DashboardFeed({ mode: 'viewer', title: `stream ${streamId} on ${config.nats_url}` });
  feed.describeRun({ sliceMs: config.slice_ms, crews: graph.crews });
  const server = await serveDashboard(feed, { ui: options.ui, ...(options.host !== undefined ? { uiHost: options.host } : {}) });
  try {
    const unfollow = await followStream(nc, streamId, feed, { heartbeatMs: config.heartbeat_s * 1000, sliceMs: config.slice_ms, clock: systemClock, logger: pinoLogger({ level: config.log_level }) });
    await stopped;
    unfollow();
  } finally {
    await server.close();
    await nc.drain();
  }
}
