import type { Command } from 'commander';
import { isolatedCrewsModule, loadCrews } from '../framework/discovery/crew-module.js';
import { crewsOption, parsePort, parseSelector, parseStreamId } from './options.js';
import { onStopSignal, STOP_GRACE_MS } from './stop-signals.js';

interface DistributedOptions {
  crews: string[];
  stream: string;
  config?: string;
  natsUrl?: string;
  metricsPort?: number;
}

interface RunnerOptions extends DistributedOptions {
  selector?: string;
}

/**
 * `live-crew scheduler` and `live-crew runner`: the two halves of a distributed run (DESIGN §5).
 * The NATS client loads when one of them runs, not for every command.
 */
export function registerDistributedCommands(program: Command): void {
  distributedCommand(program, 'scheduler', "schedule a stream's slices for runners over NATS; a second one started is a standby that takes over").action(async (options: DistributedOptions) => {
    const { crews } = await loadCrews(options.crews);
    const { runDistributedScheduler } = await import('../adapters/nats/distributed-scheduler.js');
    const outcome = await runDistributedScheduler({ ...common(options, crews), signal: stopSignal() });
    // Lost the lease: another scheduler goes on; a supervisor restarting this one makes it a standby.
    if (outcome === 'lost-lease') process.exitCode = 1;
  });
  distributedCommand(program, 'runner', "run the crews a selector picks, for a stream's scheduler over NATS")
    .option('--selector <regex>', 'host the crews whose ids match (default: LIVE_CREW_SELECTOR, else every crew)')
    .action(async (options: RunnerOptions) => {
      const { crews, providers } = await loadCrews(options.crews);
      const selector = parseSelector(options.selector ?? process.env['LIVE_CREW_SELECTOR'] ?? '.*');
      const { runDistributedRunner } = await import('../adapters/nats/distributed-runner.js');
      await runDistributedRunner({ ...common(options, crews), providers, selector, signal: stopSignal() });
    });
}

/** A distributed command with the options both have. */
function distributedCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(crewsOption())
    .requiredOption('--stream <id>', 'the stream it serves', parseStreamId)
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port (default: metrics_port from config)', parsePort);
}

function common(options: DistributedOptions, crews: Awaited<ReturnType<typeof loadCrews>>['crews']) {
  return {
    crews,
    crewsModule: isolatedCrewsModule(options.crews),
    streamId: options.stream,
    ...(options.config !== undefined ? { configFile: options.config } : {}),
    config: {
      ...(options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {}),
      ...(options.metricsPort !== undefined ? { metrics_port: options.metricsPort } : {}),
    },
  };
}

/** Aborts on SIGINT or SIGTERM; the process exits anyway if winding down takes too long. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  onStopSignal(() => controller.abort(), STOP_GRACE_MS);
  return controller.signal;
}
