import { RUNNER_GROUP_PATTERN } from '../framework/config/runner-groups-config.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../framework/config/load-config.js';
import { ConfigError } from '../framework/errors.js';
import { STREAM_ID_PATTERN } from '../framework/model/patterns.js';
import { messages } from '../framework/messages.js';
import { describeThrown } from '../framework/describe-thrown.js';

/** `--pace <factor>`: a number > 0. */
export function parsePace(value: string): number {
  const pace = Number(value);
  if (!Number.isFinite(pace) || pace <= 0) throw new InvalidArgumentError('must be a number > 0, e.g. 1 or 10');
  return pace;
}

/** `--metrics-port <port>`: 0-65535 (0: any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('must be a port number, 0-65535');
  return port;
}

/** `--format <format>`: how an events file is read. */
export function parseInputFormat(value: string): 'jsonl' | 'json' {
  if (value !== 'jsonl' && value !== 'json') throw new InvalidArgumentError('must be jsonl or json');
  return value;
}

/** `--replay-missing <policy>`: what a replay does with a model call its journal lacks. */
export function parseReplayMissing(value: string): 'fail' | 'live' {
  if (value !== 'fail' && value !== 'live') throw new InvalidArgumentError('must be fail or live');
  return value;
}

/** `--stream <id>`: a stream id as DESIGN §3 spells it (it becomes part of NATS subjects). */
export function parseStreamId(value: string): string {
  if (!STREAM_ID_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${STREAM_ID_PATTERN.source} (no dots, wildcards or spaces)`);
  return value;
}

/** A pool worker's id names its key in the pool bucket: a stream id's characters. */
export function parseWorkerId(value: string): string {
  if (!STREAM_ID_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${STREAM_ID_PATTERN.source} (letters, digits, - and _)`);
  return value;
}

/** A runner group's name, as the config's `runners` keys spell it. */
export function parseRunnerGroup(value: string): string {
  if (!RUNNER_GROUP_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${RUNNER_GROUP_PATTERN.source} (1-32 letters, digits, - and _)`);
  return value;
}

/**
 * A selector matches a whole crew id: `scorer|stats` hosts exactly those two.
 *
 * @throws ConfigError for a pattern that is not a regular expression
 */
export function parseSelector(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new ConfigError(messages.selectorNotRegex(pattern, describeThrown(error)));
  }
}

/**
 * `--crews <path>`, repeatable and (unless `required` is false) needed, from the option or the config's `crews:`: a compiled module, a `.crew.yaml` file, or a folder
 * of either (`--crews dist/crews.js --crews crews`).
 */
export function crewsOption(required = true): Option {
  const option = new Option(
    '--crews <path>',
    'the crews: a compiled JS module exporting @Crew classes, an <id>.crew.yaml file, or a folder of either; repeat for more (default: crews: in the config file)',
  ).argParser((path: string, earlier: string[] | undefined) => [...(earlier ?? []), path]);
  if (required) REQUIRED_CREWS.add(option);
  return option;
}

/** The `--crews` options a command cannot run without. */
const REQUIRED_CREWS = new WeakSet<Option>();

/**
 * A command given no `--crews` takes the config file's `crews:` (a `preAction` hook of the
 * program), so an app that names its crews in live-config.yaml types them on no command.
 *
 * A command that needs crews and gets them from neither is a usage error (exit 2).
 */
export function crewsFromConfig(_program: Command, command: Command): void {
  const option = command.options.find((candidate) => candidate.attributeName() === 'crews');
  if (option === undefined || command.getOptionValue('crews') !== undefined) return;
  const { config: file } = command.opts<{ config?: string }>();
  const { crews } = loadConfig({ file, env: process.env });
  if (crews.length > 0) command.setOptionValue('crews', crews);
  else if (REQUIRED_CREWS.has(option)) command.error(`error: ${messages.noCrewsGiven(command.name())}`, { code: 'live-crew.noCrews', exitCode: 2 });
}
