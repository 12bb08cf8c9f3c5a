import { InvalidArgumentError, Option, type Command } from 'commander';
import { buildCrewGraph, ConfigError, loadConfig } from '../index.js';
import { loadCrews } from '../framework/discovery/crew-module.js';
import { RUNNER_GROUP_PATTERN } from '../framework/config/runner-groups-config.js';
import { RunnerGroups } from '../framework/distributed/runner-groups.js';
import { UsageError } from '../framework/errors.js';
import { crewsOption, parseSelector, parseStreamId } from './options.js';
import { messages } from '../framework/messages.js';

interface AclOptions {
  crews: string[];
  stream?: string;
  pool?: boolean;
  config?: string;
  runner?: Array<{ name: string; selector: string }>;
  json?: boolean;
}

/** `--runner name=selector`, repeatable. */
function parseRunner(value: string, previous: NonNullable<AclOptions['runner']> = []): NonNullable<AclOptions['runner']> {
  const at = value.indexOf('=');
  const name = value.slice(0, at);
  if (at <= 0 || !RUNNER_GROUP_PATTERN.test(name)) throw new InvalidArgumentError('must be name=selector, the name 1-32 letters, digits, _ or -');
  return [...previous, { name, selector: value.slice(at + 1) }];
}

/**
 * `live-crew acl --crews m --stream s --runner a='x|y' --runner b=z`: the nats-server users of one
 * stream's deployment; `live-crew acl --crews m --pool`: those of a pool of workers and the
 * config's runner groups.
 */
export function registerAclCommand(program: Command): void {
  program
    .command('acl')
    .description(
      "print the nats-server authorization for one stream's scheduler, runners (by selector) and producer, or for a pool's workers, runner groups and producer: each user may touch only its own subjects and buckets",
    )
    .addOption(crewsOption())
    .option('--stream <id>', 'the stream the deployment serves', parseStreamId)
    .addOption(new Option('--pool', "a pool's users: workers, one per runner group of the config (runners:), a producer").conflicts(['stream', 'runner']))
    .option('--config <file>', 'the YAML config naming the runner groups, whose work messages runners read (default: live-config.yaml if present)')
    .option('--runner <name=selector>', 'with --stream: a runner and the crews it hosts (repeatable; default: one runner "all" hosting every crew)', parseRunner)
    .option('--json', 'print the users as JSON instead of a nats-server config block')
    .action(async (options: AclOptions) => {
      if (options.pool !== true && options.stream === undefined) throw new UsageError(messages.aclNeedsStreamOrPool());
      const { crews } = await loadCrews(options.crews);
      const graph = buildCrewGraph(crews);
      const { authorizationConfig, deploymentUsers, poolUsers } = await import('../adapters/nats/nats-authorization.js');
      const groups = RunnerGroups.of(loadConfig({ file: options.config, env: process.env }), graph);
      const ids = graph.crews.map((crew) => crew.id);
      if (options.pool === true) {
        const local = ids.filter((id) => groups.groupOf(id) === undefined);
        const users = poolUsers(
          local,
          groups.names.map((name) => ({ name, crews: ids.filter(groups.hostedBy(name)) })),
        );
        process.stdout.write(options.json ? `${JSON.stringify({ pool: true, users }, null, 2)}\n` : authorizationConfig('a pool of workers', users));
        return;
      }
      const stream = options.stream!;
      const runners = (options.runner ?? [{ name: 'all', selector: '.*' }]).map(({ name, selector }) => {
        const pattern = parseSelector(selector);
        const crews = ids.filter((id) => pattern.test(id));
        return { name, selector, crews, groups: [...new Set(crews.map((id) => groups.workGroupOf(id)))] };
      });
      const unhosted = ids.filter((id) => !runners.some((runner) => runner.crews.includes(id)));
      if (unhosted.length > 0) throw new ConfigError(messages.aclUnhostedCrews(unhosted));
      const users = deploymentUsers(stream, runners);
      process.stdout.write(options.json ? `${JSON.stringify({ stream, users }, null, 2)}\n` : authorizationConfig(`stream ${stream}`, users));
    });
}
