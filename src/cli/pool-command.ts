import type { Command } from 'commander';
import { loadConfig } from '../index.js';
import { systemClock } from '../framework/system-clock.js';

interface PoolOptions {
  config?: string;
  natsUrl?: string;
  json?: boolean;
}

/** `live-crew pool`: who in a pool of workers owns what, and what waits for a claim. */
export function registerPoolCommand(program: Command): void {
  program
    .command('pool')
    .description('print the workers of a pool over NATS, the streams each owns, and the active streams nobody owns')
    .option('--config <file>', 'the YAML config file (for nats_url)')
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .option('--json', 'print it as JSON')
    .action(async (options: PoolOptions) => {
      const config = loadConfig({ file: options.config, env: process.env, values: options.natsUrl ? { nats_url: options.natsUrl } : {} });
      const [{ connectNats, natsConnectOptions }, { poolStatus }] = await Promise.all([import('../adapters/nats/nats-connect.js'), import('../adapters/nats/pool-status.js')]);
      const nc = await connectNats(natsConnectOptions(config));
      try {
        const status = await poolStatus(nc, systemClock.now());
        if (options.json) {
          process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const lines = [
          `${status.streams} streams: ${status.active} active, ${status.finished} finished, ${status.idle} idle`,
          `${status.workers.length} workers:`,
          ...status.workers.map((worker) => `  ${worker.id}  ${worker.owned} streams${worker.owned > 0 ? `: ${worker.streams.join(' ')}` : ''}`),
          `unowned active streams: ${status.unowned.length === 0 ? 'none' : status.unowned.join(' ')}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await nc.close();
      }
    });
}
