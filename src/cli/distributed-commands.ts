import { type Command, Option } from 'commander';
import { UsageError } from '../framework/errors.js';
import { messages } from '../framework/messages.js';
import { isolatedCrewsModule, loadCrews } from '../framework/discovery/crew-module.js';
import { crewsOption, parsePort, parseRunnerGroup, parseSelector, parseStreamId, parseWorkerId } from './options.js';
import { onStopSignal, STOP_GRACE_MS } from './stop-signals.js';

interface NatsOptions {
  crews: string[];
  config?: string;
  natsUrl?: string;
  metricsPort?: number;
}

interface DistributedOptions extends NatsOptions {
  stream: string;
}

interface WorkerOptions extends NatsOptions {
  id?: string;
}

interface RunnerOptions extends NatsOptions {
  stream?: string;
  selector?: string;
  group?: string;
  id?: string;
}

/**
 * `live-crew scheduler` and `live-crew runner --stream`: the two halves of one stream's
 * distributed run (DESIGN §5); `live-crew worker` and `live-crew runner --group`: members of a
 * pool serving every stream (DESIGN §12).
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
  natsCommand(program, 'runner', "run crews over NATS: a runner group's share of every stream (--group), or the crews a selector picks for one stream's scheduler (--stream)")
    .addOption(
      new Option('--group <name>', 'serve this runner group of the config (runners.<name>) for every stream, as one of its pool').argParser(parseRunnerGroup).conflicts(['stream', 'selector']),
    )
    .addOption(new Option('--id <id>', "with --group: this runner's id in the pool (default: <host>-<pid>)").argParser(parseWorkerId).conflicts('stream'))
    .option('--stream <id>', 'the one stream it serves, with the crews --selector picks', parseStreamId)
    .option('--selector <regex>', 'with --stream: host the crews whose ids match (default: LIVE_CREW_SELECTOR, else every crew)')
    .action(async (options: RunnerOptions) => {
      if (options.group === undefined && options.stream === undefined) throw new UsageError(messages.runnerNeedsGroupOrStream());
      const { crews, providers } = await loadCrews(options.crews);
      if (options.group !== undefined) {
        const { runRunnerGroup } = await import('../adapters/nats/stream-worker.js');
        await runRunnerGroup({ ...processOptions(options, crews), providers, group: options.group, ...(options.id !== undefined ? { id: options.id } : {}), signal: stopSignal() });
        return;
      }
      const selector = parseSelector(options.selector ?? process.env['LIVE_CREW_SELECTOR'] ?? '.*');
      const { runDistributedRunner } = await import('../adapters/nats/distributed-runner.js');
      await runDistributedRunner({ ...processOptions(options, crews), streamId: options.stream!, providers, selector, signal: stopSignal() });
    });
  natsCommand(program, 'worker', 'serve every stream over NATS as one of a pool of identical workers: each claims its fair share, hands over the rest, takes over from a dead one')
    .option('--id <id>', "this worker's id in the pool (default: <host>-<pid>)", parseWorkerId)
    .action(async (options: WorkerOptions) => {
      const { crews, providers } = await loadCrews(options.crews);
      const { runStreamWorker } = await import('../adapters/nats/stream-worker.js');
      await runStreamWorker({ ...processOptions(options, crews), providers, ...(options.id !== undefined ? { id: options.id } : {}), signal: stopSignal() });
    });
}

/** A command of a process on NATS, with the options they all have. */
function natsCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(crewsOption())
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port (default: metrics_port from config)', parsePort);
}

/** A command of one stream's distributed run. */
function distributedCommand(program: Command, name: string, description: string): Command {
  return natsCommand(program, name, description).requiredOption('--stream <id>', 'the stream it serves', parseStreamId);
}

function common(options: DistributedOptions, crews: Awaited<ReturnType<typeof loadCrews>>['crews']) {
  return { ...processOptions(options, crews), streamId: options.stream };
}

/** What every process on NATS is given: its crews, their module, and its configuration. */
function processOptions(options: NatsOptions, crews: Awaited<ReturnType<typeof loadCrews>>['crews']) {
  return {
    crews,
    crewsModule: isolatedCrewsModule(options.crews),
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
