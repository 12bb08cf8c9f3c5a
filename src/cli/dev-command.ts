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
 * `live-crew dev --stream <id> --nats-url …`: the dashboard of a distributed stream, read-only.
 */
export function registerDevCommand(program: Command): void {
  withRunOptions(
    program
      .command('dev')
      .description('run crews over an event file with the live dashboard in the browser; with --stream, watch a distributed stream over NATS instead (read-only)')
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
      if (events === undefined) command.error('error: dev needs an events file (or - for stdin), or --stream <id> to watch a distributed stream');
      if (options.crews === undefined) command.error('error: dev <events> needs --crews <path>: the crews to run');
      await runCrews(events, { ...options, crews: options.crews, ui, ...(options.host !== undefined ? { uiHost: options.host } : {}) }, true);
    });
}

/** Serves the dashboard of a distributed stream until a stop signal. */
async function watchStream(streamId: string, options: DevOptions & { ui: number }): Promise<void> {
  const { crews } = options.crews === undefined ? { crews: [] } : await loadCrews(options.crews);
  const { config, graph } = resolveCrews({
    crews,
    ...(options.config !== undefined ? { configFile: options.config } : {}),
    config: options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {},
  });
  let stop = (): void => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  onStopSignal(() => stop(), STOP_GRACE_MS);
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
