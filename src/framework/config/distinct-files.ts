import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { messages } from '../messages.js';

/** A file a command reads or writes: how the user named it (`--out`), and the path; `-` (stdin, stdout) and none are no file. */
export type NamedFile = readonly [name: string, path: string | null | undefined];

/**
 * Refuses two files of a run that are one file (after resolving links): writing actions over the
 * events being read, or errors over the actions, would destroy one of them without a word.
 * Nothing is opened, so nothing is lost.
 *
 * @throws UsageError naming both and the file
 */
export function checkDistinctFiles(files: readonly NamedFile[]): void {
  const seen = new Map<string, string>();
  for (const [name, path] of files) {
    if (path === null || path === undefined || path === '-') continue;
    const file = identity(path);
    const earlier = seen.get(file);
    if (earlier !== undefined) throw new UsageError(messages.sameFile(earlier, name, path));
    seen.set(file, name);
  }
}

/** The files of a run's configuration, named as the `run` command's options name them. */
export function runFiles(config: {
  readonly input: string;
  readonly output: string;
  readonly errors: string;
  readonly context_out: string | null;
  readonly journal: string | null;
  readonly replay: string | null;
}): NamedFile[] {
  return [
    ['the events file (input)', config.input],
    ['--out (output)', config.output],
    ['--errors (errors)', config.errors],
    ['--context-out (context_out)', config.context_out],
    ['--journal (journal)', config.journal],
    ['--replay (replay)', config.replay],
  ];
}

/** The one name of a file, links resolved: of the file when it exists, else of the folder it would be made in. */
function identity(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}
