import { InvalidArgumentError, type Command } from 'commander';
import { buildCrewGraph, ConfigError } from '../index.js';
import { loadCrews } from '../framework/discovery/crew-module.js';
import { crewsOption, parseSelector, parseStreamId } from './options.js';
import { messages } from '../framework/messages.js';

interface AclOptions {
  crews: string[];
  stream: string;
  runner: Array<{ name: string; selector: string }>;
  json?: boolean;
}

/** `--runner name=selector`, repeatable. */
function parseRunner(value: string, previous: AclOptions['runner'] = []): AclOptions['runner'] {
  const at = value.indexOf('=');
  const name = value.slice(0, at);
  if (at <= 0 || !/^[a-zA-Z0-9_-]{1,32}$/.test(name)) throw new InvalidArgumentError('must be name=selector, the name 1-32 letters, digits, _ or -');
  return [...previous, { name, selector: value.slice(at + 1) }];
}

/** `live-crew acl --crews m --stream s --runner a='x|y' --runner b=z`: the nats-server users of a deployment. */
export function registerAclCommand(program: Command): void {
  program
    .command('acl')
    .description("print the nats-server authorization for one stream's scheduler, runners (by selector) and producer: each user may touch only its own subjects and buckets")
    .addOption(crewsOption())
    .requiredOption('--stream <id>', 'the stream the deployment serves', parseStreamId)
    .option('--runner <name=selector>', 'a runner and the crews it hosts (repeatable; default: one runner "all" hosting every crew)', parseRunner)
    .option('--json', 'print the users as JSON instead of a nats-server config block')
    .action(async (options: AclOptions) => {
      const { crews } = await loadCrews(options.crews);
      const ids = buildCrewGraph(crews).crews.map((crew) => crew.id);
      const runners = (options.runner ?? [{ name: 'all', selector: '.*' }]).map(({ name, selector }) => {
        const pattern = parseSelector(selector);
        return { name, selector, crews: ids.filter((id) => pattern.test(id)) };
      });
      const unhosted = ids.filter((id) => !runners.some((runner) => runner.crews.includes(id)));
      if (unhosted.length > 0) throw new ConfigError(messages.aclUnhostedCrews(unhosted));
      const { authorizationConfig, deploymentUsers } = await import('../adapters/nats/nats-authorization.js');
      const users = deploymentUsers(options.stream, runners);
      process.stdout.write(options.json ? `${JSON.stringify({ stream: options.stream, users }, null, 2)}\n` : authorizationConfig(options.stream, users));
    });
}
