#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LiveCrewError, UsageError } from '../index.js';
import { describeThrown, isThrownInstance } from '../framework/describe-thrown.js';
import { registerAclCommand } from './acl-command.js';
import { crewsFromConfig } from './options.js';
import { registerDevCommand } from './dev-command.js';
import { registerDistributedCommands } from './distributed-commands.js';
import { registerInspectCommands } from './inspect-commands.js';
import { registerScaffoldCommands } from './scaffold-commands.js';
import { registerPoolCommand } from './pool-command.js';
import { registerPublishCommand } from './publish-command.js';
import { registerRunCommand } from './run-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerTailCommand } from './tail-command.js';

/** Exit codes: 0 done, 1 bad config, crews or input, 2 bad usage. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('live-crew')
  .description('run crews of reactive logic over event streams, in deterministic time slices')
  .version(version)
  .exitOverride()
  .showHelpAfterError()
  .hook('preAction', crewsFromConfig);
registerRunCommand(program);
registerDevCommand(program);
registerReplayCommand(program);
registerPublishCommand(program);
registerTailCommand(program);
registerDistributedCommands(program);
registerPoolCommand(program);
registerAclCommand(program);
registerInspectCommands(program);
registerScaffoldCommands(program);
for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

// A closed stdout (`live-crew run ... | head`) is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.ok);
  throw error;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeOf(error);
}

function exitCodeOf(error: unknown): number {
  if (isThrownInstance(error, CommanderError)) {
    const informational = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
    return informational.includes(error.code) ? EXIT.ok : EXIT.usage;
  }
  if (isThrownInstance(error, LiveCrewError)) {
    process.stderr.write(`live-crew: ${error.name}: ${error.message}\n`);
    return isThrownInstance(error, UsageError) ? EXIT.usage : EXIT.failed;
  }
  // Not live-crew's: whatever was thrown (a crew module may throw anything) is shown, with its stack if it has one.
  const stack = isThrownInstance(error, Error) ? describeThrownStack(error) : undefined;
  process.stderr.write(`live-crew: unexpected error: ${stack ?? describeThrown(error)}\n`);
  return EXIT.failed;
}

function describeThrownStack(error: Error): string | undefined {
  try {
    return typeof error.stack === 'string' ? error.stack : undefined;
  } catch {
    return undefined;
  }
}
