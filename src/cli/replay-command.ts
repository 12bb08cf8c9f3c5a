import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkDistinctFiles } from '../framework/config/distinct-files.js';
import type { Command } from 'commander';
import { ACTION_SINK, createLiveCrewApp, DECISION_JOURNAL, ERROR_SINK, EVENT_SOURCE, InputError, loadConfig } from '../index.js';
import { isolatedCrewsModule, loadCrews } from '../framework/discovery/crew-module.js';
import { CollectingActionSink, CollectingErrorSink, MemoryDecisionJournal } from '../framework/testing/in-memory-ports.js';
import { compareRecordings, describeDivergence } from '../framework/replay/recording-comparison.js';
import { encodeErrorRecord } from '../framework/model/error-record.js';
import type { VectorConfig } from '../framework/config/vector-config.js';
import { messages } from '../framework/messages.js';
import { crewsOption, parseInputFormat, parseReplayMissing, parseStreamId } from './options.js';
import { describeThrown } from '../framework/describe-thrown.js';

interface ReplayOptions {
  crews: string[];
  stream?: string;
  natsUrl?: string;
  config?: string;
  expected?: string;
  expectedErrors?: string;
  journal?: string;
  replayMissing?: 'fail' | 'live';
  format?: 'jsonl' | 'json';
  update?: boolean;
}

/**
 * `live-crew replay <events> --crews <path> --expected <actions.jsonl>`, or `replay --stream <id>`:
 * the replay harness for CI (DESIGN §5). Re-runs a recording (an events file, or a finished
 * stream in JetStream, with its journal's decisions and model answers) against the crews as they
 * are now, in batch mode, compares the actions (and error records) with the recorded ones, prints
 * each divergence and a summary, and exits 1 on any; `--update` rewrites the recording instead.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('re-run recorded events against the current crews and compare with the recorded actions (and errors); exit 1 on any divergence')
    .argument('[events]', 'the recorded events file (or --stream)')
    .addOption(crewsOption())
    .option('--expected <file>', 'the recorded actions (JSONL, as run --out writes them); with --stream, default: those the stream published')
    .option('--expected-errors <file>', 'the recorded error records (JSONL, as run --errors writes them); compared too when given (with --stream, default: those it published)')
    .option('--journal <file>', "the recorded run's journal: its decisions and model answers are repeated (no model is called); with --stream, its LIVE_JOURNAL")
    .option('--stream <id>', 'replay a finished stream from NATS JetStream: its events, journal, actions and errors', parseStreamId)
    .option('--nats-url <url>', 'the NATS server for --stream (default: nats_url from config)')
    .option('--replay-missing <policy>', 'a model call the journal lacks or whose request changed: fail (a replay_divergence error) or live', parseReplayMissing)
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--format <format>', 'jsonl or json (default: by extension)', parseInputFormat)
    .option('--update', "write this run's actions (and errors) over the expected files instead of comparing")
    .action(async (events: string | undefined, options: ReplayOptions) => {
      if ((events === undefined) === (options.stream === undefined)) throw new InputError(messages.replayInputNeeded());
      if (options.expected === undefined && options.stream === undefined) throw new InputError(messages.replayExpectedNeeded());
      if (options.update && options.expected === undefined) throw new InputError(messages.replayUpdateNeedsFile());
      checkDistinctFiles([
        ['the events file', events],
        ['--expected', options.expected],
        ['--expected-errors', options.expectedErrors],
        ['--journal', options.journal],
      ]);
      // An update records this run's whole journal beside the one it replays, then puts it in its place.
      const rewrittenJournal = options.update && options.journal !== undefined ? join(dirname(options.journal), `.${basename(options.journal)}.${process.pid}.new`) : undefined;
      const { crews, providers } = await loadCrews(options.crews);
      const config = loadConfig({ file: options.config, env: process.env, values: options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {} });
      // The NATS client loads only to replay a stream from JetStream.
      const recording =
        options.stream !== undefined
          ? await (await import('../adapters/nats/stream-recording.js')).openStreamRecording(config, options.stream, (warning) => process.stderr.write(`live-crew: ${warning}\n`))
          : undefined;
      const actions = new CollectingActionSink();
      const errors = new CollectingErrorSink();
      try {
        const app = await createLiveCrewApp({
          crews,
          providers: [
            ...providers,
            { token: ACTION_SINK, useValue: actions },
            { token: ERROR_SINK, useValue: errors },
            ...(recording !== undefined ? [{ token: EVENT_SOURCE, useValue: recording.source }] : []),
            ...(recording !== undefined && options.journal === undefined ? [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(recording.decisions) }] : []),
          ],
          crewsModule: isolatedCrewsModule(options.crews),
          reloadable: options.journal !== undefined || recording !== undefined,
          ...(options.config !== undefined ? { configFile: options.config } : {}),
          configDefaults: { log_level: 'warn' },
          config: {
            ...(events !== undefined ? { input: events } : {}),
            transport: 'file',
            kv_backend: 'memory',
            scheduler: 'memory',
            mode: 'batch',
            pace: null,
            ...(options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {}),
            // Searches come from the journal; upserts go to a store of the replay's own, never the recorded run's.
            ...(config.vector !== null ? { vector: replayVectors(config.vector) } : {}),
            ...(options.format !== undefined ? { input_format: options.format } : {}),
            ...(options.journal !== undefined ? { replay: options.journal } : {}),
            ...(rewrittenJournal !== undefined ? { journal: rewrittenJournal } : {}),
            ...(options.replayMissing !== undefined ? { replay_missing: options.replayMissing } : {}),
          },
        });
        await app.run();
      } catch (error) {
        if (rewrittenJournal !== undefined) rmSync(rewrittenJournal, { force: true });
        throw error;
      } finally {
        await recording?.close();
      }
      if (options.update) {
        writeFileSync(options.expected!, actions.emitted.map((emitted) => `${emitted.json}\n`).join(''));
        if (options.expectedErrors !== undefined) writeFileSync(options.expectedErrors, errors.errors.map((record) => `${encodeErrorRecord(record)}\n`).join(''));
        if (rewrittenJournal !== undefined) renameSync(rewrittenJournal, options.journal!);
        const updated = [
          `${options.expected} (${actions.actions.length} actions)`,
          ...(options.expectedErrors !== undefined ? [`${options.expectedErrors} (${errors.errors.length} errors)`] : []),
          ...(rewrittenJournal !== undefined ? [`${options.journal} (the journal)`] : []),
        ];
        process.stdout.write(`updated ${[updated.slice(0, -1).join(', '), updated.at(-1)].filter((part) => part !== '').join(' and ')}\n`);
        return;
      }
      const withErrors = options.expectedErrors !== undefined || recording !== undefined;
      const expected = {
        actions: options.expected !== undefined ? readRecords(options.expected) : recording!.actions,
        errors: options.expectedErrors !== undefined ? readRecords(options.expectedErrors) : (recording?.errors ?? []),
      };
      const divergences = compareRecordings(expected, { actions: actions.emitted, errors: withErrors ? errors.errors : [] });
      const locate = events !== undefined ? (position: number) => `${basename(events)}:${position}` : (position: number) => `${recording!.eventsAt}#${position}`;
      for (const divergence of divergences) process.stdout.write(`${describeDivergence(divergence, locate)}\n`);
      const compared = `${expected.actions.length} recorded actions, ${actions.actions.length} now${withErrors ? `; ${expected.errors.length} recorded errors, ${errors.errors.length} now` : ''}`;
      const count = (kind: string) => divergences.filter((d) => d.kind === kind).length;
      process.stdout.write(
        divergences.length === 0
          ? `replay: no divergence (${compared})\n`
          : `replay: ${divergences.length} divergences: ${count('changed')} changed, ${count('missing')} missing, ${count('extra')} extra (${compared})\n`,
      );
      if (divergences.length > 0) process.exitCode = 1;
    });
}

/** `vector:` for a replay: the same collections and embedder, in memory. */
function replayVectors({ backend: _backend, path: _path, url: _url, api_key_env: _key, ...rest }: VectorConfig): VectorConfig {
  return { ...rest, backend: 'memory' };
}

/**
 * A recorded JSONL file's records.
 *
 * @throws InputError naming the file and line of one that cannot be read or parsed
 */
function readRecords(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(messages.recordingUnreadable(path, describeThrown(error)), { cause: error });
  }
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (error) {
      throw new InputError(messages.recordingLineInvalid(`${path}:${index + 1}`, describeThrown(error)));
    }
  });
}
