import type { Command } from 'commander';
import { EventDecoder, inputLimits, loadConfig } from '../index.js';
import { fileEventSource } from '../adapters/file/file-event-source.js';
import { PacedEventSource } from '../framework/runtime/paced-event-source.js';
import { systemClock } from '../framework/system-clock.js';
import { parseInputFormat, parsePace, parseStreamId } from './options.js';
import { importNats } from './nats-modules.js';

interface PublishOptions {
  stream?: string;
  pace?: number;
  config?: string;
  natsUrl?: string;
  end?: boolean;
  format?: 'jsonl' | 'json';
}

/** `live-crew publish <events> [--stream id] [--pace f]`: feeds events into JetStream. */
export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('publish events from a file (or - for stdin) to live.<stream>.events in JetStream')
    .argument('<events>', 'the events file (.jsonl or .json array), or - for stdin')
    .option('--stream <id>', 'publish only the events of this stream (others are reported and skipped)', parseStreamId)
    .option('--pace <factor>', 'publish at the recorded speed times factor (default: as fast as possible)', parsePace)
    .option('--config <file>', 'the YAML config file (for nats_url)')
    .option('--format <format>', 'jsonl or json (default: by extension, .json is one array; stdin is JSONL)', parseInputFormat)
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .option('--end', "then mark the end of each stream published (a distributed run's scheduler closes its slices and finishes)")
    .action(async (events: string, options: PublishOptions) => {
      const config = loadConfig({
        file: options.config,
        env: process.env,
        values: { ...(options.natsUrl ? { nats_url: options.natsUrl } : {}), ...(options.format ? { input_format: options.format } : {}) },
      });
      const decoder = new EventDecoder(inputLimits(config));
      const file = fileEventSource(events, config);
      const source = options.pace === undefined ? file : new PacedEventSource(file, options.pace, systemClock);
      const [{ jetstream }, { connectNats, natsConnectOptions }, { ensureLiveStreams, liveSubject }, { publishEndOfStream }] = await importNats();
      const nc = await connectNats(natsConnectOptions(config));
      let published = 0;
      let skipped = 0;
      const streams = new Set<string>(options.stream !== undefined ? [options.stream] : []);
      try {
        await ensureLiveStreams(nc);
        const js = jetstream(nc);
        for await (const { origin, records } of source.batches()) {
          const acks: Promise<unknown>[] = [];
          for (const record of records) {
            const decoded = decoder.decodeRecord(record, origin);
            const where = origin.locate(record.position, record.stream);
            if ('problem' in decoded || (options.stream !== undefined && decoded.event.stream_id !== options.stream)) {
              skipped++;
              const why = 'problem' in decoded ? decoded.problem : `event of stream ${decoded.event.stream_id}, not ${options.stream}`;
              process.stderr.write(`live-crew publish: ${where}: skipped: ${why}\n`);
              continue;
            }
            streams.add(decoded.event.stream_id);
            acks.push(js.publish(liveSubject(decoded.event.stream_id, 'events'), JSON.stringify(decoded.event)));
            published++;
          }
          await Promise.all(acks);
        }
        if (options.end) for (const stream of streams) await publishEndOfStream(js, stream);
      } finally {
        await nc.drain();
      }
      process.stderr.write(`live-crew publish: ${published} published, ${skipped} skipped\n`);
    });
}
