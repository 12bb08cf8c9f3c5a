import type { Command } from 'commander';
import { loadConfig } from '../index.js';
import { parseStreamId } from './options.js';
import { messages } from '../framework/messages.js';
import { DEFAULT_MAX_DEPTH } from '../framework/model/frozen-json.js';
import { parseForeignJson } from '../framework/model/json.js';
import { importNats } from './nats-modules.js';
import { onStopSignal, STOP_GRACE_MS } from './stop-signals.js';

/** How deep a record tail prints may nest: its envelope around a payload within the bounds, twice over. */
const TAILED_MAX_DEPTH = 4 + 2 * DEFAULT_MAX_DEPTH;

/** How long the server keeps a tail's consumer after the tail is gone: 30 s, in ns. */
const INACTIVE_THRESHOLD_NS = 30_000_000_000;

interface TailOptions {
  actions?: boolean;
  errors?: boolean;
  all?: boolean;
  count?: string;
  config?: string;
  natsUrl?: string;
}

/** `live-crew tail <stream> [--actions|--errors]`: prints a stream's actions or errors as they arrive. */
export function registerTailCommand(program: Command): void {
  program
    .command('tail')
    .description("print a stream's actions (or errors) from JetStream as JSON lines, as they arrive")
    .argument('<stream>', 'the stream id', parseStreamId)
    .option('--actions', 'print actions (the default)')
    .option('--errors', 'print error records instead')
    .option('--all', 'start from the first stored message, not the next new one')
    .option('--count <n>', 'exit after n messages')
    .option('--config <file>', 'the YAML config file (for nats_url)')
    .option('--nats-url <url>', 'the NATS server (default: nats_url from config)')
    .action(async (stream: string, options: TailOptions) => {
      const config = loadConfig({ file: options.config, env: process.env, values: options.natsUrl ? { nats_url: options.natsUrl } : {} });
      const what = options.errors ? 'errors' : 'actions';
      const limit = options.count === undefined ? Number.POSITIVE_INFINITY : Number(options.count);
      // Signals are taken from the start: a tail stopped while it connects or waits ends cleanly.
      let stopped = false;
      let stopReading = () => {
        stopped = true;
      };
      onStopSignal(() => stopReading(), STOP_GRACE_MS);
      const [{ AckPolicy, DeliverPolicy, jetstream }, { connectNats, natsConnectOptions }, { ensureLiveStreams, LIVE_STREAMS, liveSubject }] = await importNats();
      const nc = await connectNats(natsConnectOptions(config));
      try {
        await ensureLiveStreams(nc);
        // An ephemeral consumer the server removes once we are gone. Ordered consumers need
        // `filter_subjects`, which nats-server 2.9 lacks; a single `filter_subject` works on it.
        const js = jetstream(nc);
        const jsm = await js.jetstreamManager();
        const known = await jsm.streams.getMessage(LIVE_STREAMS.events.name, { last_by_subj: liveSubject(stream, 'events') }).then(
          (message) => message !== null && message !== undefined,
          () => false,
        );
        if (!known) process.stderr.write(`live-crew tail: stream "${stream}" has no events in JetStream (nothing on ${liveSubject(stream, 'events')}); waiting for its ${what} (Ctrl-C to stop)\n`);
        const { name } = await jsm.consumers.add(LIVE_STREAMS[what].name, {
          filter_subject: liveSubject(stream, what),
          deliver_policy: options.all ? DeliverPolicy.All : DeliverPolicy.New,
          ack_policy: AckPolicy.None,
          inactive_threshold: INACTIVE_THRESHOLD_NS,
        });
        const consumer = await js.consumers.get(LIVE_STREAMS[what].name, name);
        const consumed = await consumer.consume();
        stopReading = () => void consumed.stop();
        if (stopped) stopReading();
        let seen = 0;
        for await (const message of consumed) {
          // Only what live-crew writes there reaches stdout: one JSON record per line, never a forged line.
          const text = message.string();
          const json = parseForeignJson(text, TAILED_MAX_DEPTH);
          if (json.problem !== undefined) process.stderr.write(`live-crew tail: ${messages.wireMessageRefused(message.subject, message.seq, json.problem, 'not printed')}\n`);
          else process.stdout.write(`${JSON.stringify(json.value)}\n`);
          if (++seen >= limit) break;
        }
      } finally {
        await nc.drain();
      }
    });
}
