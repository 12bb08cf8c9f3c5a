import type { Command } from 'commander';
import { loadConfig } from '../index.js';
import type { PoolMemberView } from '../framework/distributed/pool-view.js';
import { systemClock } from '../framework/system-clock.js';

interface PoolOptions {
  config?: string;
  natsUrl?: string;
  json?: boolean;
}

/** A member's line: its id, how many streams it owns, and which. */
const memberLine = (member: PoolMemberView) => `  ${member.id}  ${member.owned} streams${member.owned > 0 ? `: ${member.streams.join(' ')}` : ''}`;

/** `live-crew pool`: who in a pool of workers and runner groups owns what, and what waits for a claim. */
export function registerPoolCommand(program: Command): void {
  program
    .command('pool')
    .description('print the workers and runner groups of a pool over NATS, the streams each owns, and the active streams nobody owns')
    .option('--config <file>', 'the YAML config file (for nats_url)')
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .option('--json', 'print it as JSON')
    .action(async (options: PoolOptions) => {
      const config = loadConfig({ file: options.config, env: process.env, values: options.natsUrl ? { nats_url: options.natsUrl } : {} });
      const [{ connectNats, natsConnectOptions }, { readPoolStatus }] = await Promise.all([import('../adapters/nats/nats-connect.js'), import('../adapters/nats/pool-status.js')]);
      const nc = await connectNats(natsConnectOptions(config));
      try {
        const status = await readPoolStatus(nc, systemClock.now());
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const lines = [
          `${status.streams} streams: ${status.active} active, ${status.finished} finished, ${status.idle} idle`,
          `${status.workers.length} workers:`,
          ...status.workers.map(memberLine),
          ...status.groups.flatMap(({ group, runners }) => [`runner group ${group}: ${runners.length} runners`, ...runners.map(memberLine)]),
          `unowned active streams: ${status.unowned.length === 0 ? 'none' : status.unowned.join(' ')}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await nc.close();
      }
    });
}
