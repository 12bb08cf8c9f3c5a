import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { ACTION_SINK, createLiveCrewApp, ERROR_SINK, InputError, type ActionSink, type EmittedAction } from '../index.js';
import { isolatedCrewsModule, loadCrews } from '../framework/discovery/crew-module.js';
import { CollectingErrorSink } from '../framework/testing/in-memory-ports.js';
import { compareRecordings, describeDivergence } from '../framework/replay/recording-comparison.js';
import { encodeErrorRecord } from '../framework/model/error-record.js';
import { messages } from '../framework/messages.js';
import { crewsOption, parseInputFormat, parseReplayMissing } from './options.js';

interface ReplayOptions {
  crews: string[];
  config?: string;
  expected: string;
  expectedErrors?: string;
  journal?: string;
  replayMissing?: 'fail' | 'live';
  format?: 'jsonl' | 'json';
  update?: boolean;
}

/** Keeps every action with its id, which names the crew, slice and event that made it. */
class EmittedActionSink implements ActionSink {
  readonly actions: EmittedAction[] = [];

  write(actions: readonly EmittedAction[]): void {
    this.actions.push(...actions);
  }

  async close(): Promise<void> {}
}

/**
 * `live-crew replay <events> --crews <path> --expected <actions.jsonl>`: the replay harness for CI
 * (DESIGN §5). Re-runs a recording (its events, and its journal's decisions and model answers)
 * against the crews as they are now, compares the actions (and error records) with the recorded
 * ones, prints each divergence and a summary, and exits 1 on any; `--update` rewrites the
 * recording instead.
 */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('re-run recorded events against the current crews and compare with the recorded actions (and errors); exit 1 on any divergence')
    .argument('<events>', 'the recorded events file')
    .addOption(crewsOption())
    .requiredOption('--expected <file>', 'the recorded actions (JSONL, as run --out writes them)')
    .option('--expected-errors <file>', 'the recorded error records (JSONL, as run --errors writes them); compared too when given')
    .option('--journal <file>', "the recorded run's journal: its decisions and model answers are repeated (no model is called)")
    .option('--replay-missing <policy>', 'a model call the journal lacks or whose request changed: fail (a replay_divergence error) or live', parseReplayMissing)
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--format <format>', 'jsonl or json (default: by extension)', parseInputFormat)
    .option('--update', 'write this run\'s actions (and errors) over the expected files instead of comparing')
    .action(async (events: string, options: ReplayOptions) => {
      const { crews, providers } = await loadCrews(options.crews);
      const actions = new EmittedActionSink();
      const errors = new CollectingErrorSink();
      const app = await createLiveCrewApp({
        crews,
        providers: [...providers, { token: ACTION_SINK, useValue: actions }, { token: ERROR_SINK, useValue: errors }],
        crewsModule: isolatedCrewsModule(options.crews),
        reloadable: options.journal !== undefined,
        ...(options.config !== undefined ? { configFile: options.config } : {}),
        configDefaults: { log_level: 'warn' },
        config: {
          input: events,
          mode: 'batch',
          pace: null,
          ...(options.format !== undefined ? { input_format: options.format } : {}),
          ...(options.journal !== undefined ? { replay: options.journal } : {}),
          ...(options.replayMissing !== undefined ? { replay_missing: options.replayMissing } : {}),
        },
      });
      await app.run();
      if (options.update) {
        writeFileSync(options.expected, actions.actions.map((emitted) => `${emitted.json}\n`).join(''));
        if (options.expectedErrors !== undefined) writeFileSync(options.expectedErrors, errors.errors.map((record) => `${encodeErrorRecord(record)}\n`).join(''));
        process.stdout.write(`updated ${options.expected} (${actions.actions.length} actions)${options.expectedErrors !== undefined ? ` and ${options.expectedErrors} (${errors.errors.length} errors)` : ''}\n`);
        return;
      }
      const expected = { actions: readRecords(options.expected), errors: options.expectedErrors !== undefined ? readRecords(options.expectedErrors) : [] };
      const divergences = compareRecordings(expected, { actions: actions.actions, errors: options.expectedErrors !== undefined ? errors.errors : [] });
      for (const divergence of divergences) process.stdout.write(`${describeDivergence(divergence, basename(events))}\n`);
      const compared = `${expected.actions.length} recorded actions, ${actions.actions.length} now${options.expectedErrors !== undefined ? `; ${expected.errors.length} recorded errors, ${errors.errors.length} now` : ''}`;
      const count = (kind: string) => divergences.filter((d) => d.kind === kind).length;
      process.stdout.write(
        divergences.length === 0
          ? `replay: no divergence (${compared})\n`
          : `replay: ${divergences.length} divergences: ${count('changed')} changed, ${count('missing')} missing, ${count('extra')} extra (${compared})\n`,
      );
      if (divergences.length > 0) process.exitCode = 1;
    });
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
    throw new InputError(messages.recordingUnreadable(path, (error as Error).message), { cause: error });
  }
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (error) {
      throw new InputError(messages.recordingLineInvalid(`${path}:${index + 1}`, (error as Error).message));
    }
  });
}
